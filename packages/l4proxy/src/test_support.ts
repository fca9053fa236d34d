/** Servers and waits the l4proxy tests share (test-only; not exported from the package). */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** Polls `check` until it returns something other than undefined/false, or fails after `timeoutMs`. */
export async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A TCP server on 127.0.0.1 (allowHalfOpen, so tests see half-close) running `handle` per socket. */
export async function tcpServer(handle: (socket: Socket) => void): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // the tests look at the client's side
    handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return { server, port: address.port, sockets };
}

export function closeServer(server: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const socket of server.sockets) socket.destroy();
  return new Promise((resolve) => server.server.close(() => resolve()));
}

/** An echo server: every byte back, and a FIN back after the client's FIN. */
export const echo = (socket: Socket): void => void socket.pipe(socket);

export interface ClientResult {
  readonly received: Buffer;
  readonly error: NodeJS.ErrnoException | undefined;
}

/** Connects to 127.0.0.1:`port`; resolves with the socket once connected. */
export function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Everything the socket receives until it closes (it ends its side at the peer's FIN, as most clients do), and the error it closed with, if any. */
export function collect(socket: Socket): Promise<ClientResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: NodeJS.ErrnoException | undefined;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (failure: NodeJS.ErrnoException) => (error = failure));
    socket.on('end', () => socket.end());
    socket.on('close', () => resolve({ received: Buffer.concat(chunks), error }));
  });
}

/** Reads until `length` bytes arrived (for a request/response on a kept connection). */
export function readBytes(socket: Socket, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size < length) return;
      cleanUp();
      resolve(Buffer.concat(chunks));
    };
    const onEnd = (): void => {
      cleanUp();
      reject(new Error(`stream ended after ${size} of ${length} bytes`));
    };
    const cleanUp = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
  });
}
