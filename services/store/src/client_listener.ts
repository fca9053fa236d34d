import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';

/** Every HTTP/2 connection (so every gRPC one) opens with this preface. */
const HTTP2_PREFACE_START = Buffer.from('PRI * HTTP/2');

/**
 * One listener per URL serving both gRPC and plain HTTP, as etcd does with cmux: the first bytes of
 * a connection decide. gRPC connections go to the gRPC server; anything else (curl /health, a
 * Prometheus scrape of /metrics) to `http`. Nagle is off on every connection, as Go's net (so etcd)
 * has it: with it on, a response written in pieces waits for the client's delayed ACK.
 */
export async function listenClientUrl(
  url: string,
  grpcServer: grpc.Server,
  http: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<Server> {
  const { hostname, port } = new URL(url);
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const httpServer = createHttpServer(http);
  const listener = createServer({ noDelay: true }, (socket: Socket) => {
    socket.setNoDelay(true);
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const decidable = seen.length >= HTTP2_PREFACE_START.length || !HTTP2_PREFACE_START.subarray(0, seen.length).equals(seen);
      if (!decidable) return;
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (seen.subarray(0, HTTP2_PREFACE_START.length).equals(HTTP2_PREFACE_START)) {
        // The HTTP/2 session reads what is buffered itself; resuming here would spill it.
        injector.injectConnection(socket);
      } else {
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
  listener.on('close', () => injector.destroy());
  return listener;
}
