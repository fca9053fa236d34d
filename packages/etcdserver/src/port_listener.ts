import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';

/** Every HTTP/2 connection (so every gRPC one) opens with this preface. */
const HTTP2_PREFACE_START = Buffer.from('PRI * HTTP/2');

/** Where HTTP/2 connections (so gRPC ones) go: their socket, the preface not yet read. */
export interface Http2Acceptor {
  accept(socket: Socket): void;
  /** The listener closed. */
  close?(): void;
}

/** HTTP/2 connections for a grpc-js server (the peer port's). */
export function grpcJsAcceptor(server: grpc.Server): Http2Acceptor {
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return { accept: (socket) => injector.injectConnection(socket), close: () => injector.destroy() };
}

/** A protocol of our own on the same port, recognised by its first bytes. */
export interface RawProtocol {
  readonly preface: Buffer;
  /** Takes the connection after its preface. */
  accept(socket: Socket): void;
}

/**
 * One listener per URL serving gRPC, plain HTTP and optionally a raw protocol, as etcd does with
 * cmux: the first bytes of a connection decide. gRPC connections go to `http2`; a raw
 * protocol's (the peer port's Raft streams) to its handler; anything else (curl /health, a
 * Prometheus scrape of /metrics) to `http`. Nagle is off on every connection, as Go's net (so
 * etcd) has it: with it on, a response written in pieces waits for the client's delayed ACK.
 */
export async function listenClientUrl(
  url: string,
  http2: Http2Acceptor,
  http: (request: IncomingMessage, response: ServerResponse) => void,
  raw?: RawProtocol,
): Promise<Server> {
  const { hostname, port } = new URL(url);
  const httpServer = createHttpServer(http);
  const prefaces = raw === undefined ? [HTTP2_PREFACE_START] : [HTTP2_PREFACE_START, raw.preface];
  const listener = createServer({ noDelay: true }, (socket: Socket) => {
    socket.setNoDelay(true);
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      // Undecided while the bytes so far are a proper beginning of some preface.
      if (prefaces.some((preface) => seen.length < preface.length && preface.subarray(0, seen.length).equals(seen))) return;
      socket.off('data', onData);
      socket.pause();
      if (startsWith(seen, HTTP2_PREFACE_START)) {
        socket.unshift(seen);
        // The HTTP/2 session reads what is buffered itself; resuming here would spill it.
        http2.accept(socket);
      } else if (raw !== undefined && startsWith(seen, raw.preface)) {
        const rest = seen.subarray(raw.preface.length);
        if (rest.length > 0) socket.unshift(rest);
        raw.accept(socket);
        socket.resume();
      } else {
        socket.unshift(seen);
        httpServer.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(Number(port), hostname, () => resolve());
  });
  listener.on('close', () => http2.close?.());
  return listener;
}

function startsWith(bytes: Buffer, preface: Buffer): boolean {
  return bytes.length >= preface.length && bytes.subarray(0, preface.length).equals(preface);
}
