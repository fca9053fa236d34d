import { createServer, type AddressInfo } from 'node:net';
import { GrpcServer } from '@k8ts/proto';
import type { ApiServer } from '../api_server.js';
import { registerApiService, type ApiServiceOptions } from './api_service.js';

export interface GrpcApiListener {
  /** host:port it listens on (the port the system chose when asked for 0). */
  readonly address: string;
  /** Stops taking calls and waits for running ones; watches are ended first. */
  shutdown(): Promise<void>;
  /** Ends every call at once. */
  forceShutdown(): void;
}

/** Watch streams never end by themselves: graceful shutdown gets this long, then calls are cut. */
const SHUTDOWN_GRACE_MS = 2000;

/**
 * A gRPC server with only the Api service, for processes and tests that need nothing more. It is
 * `@k8ts/proto`'s GrpcServer (HTTP/2 framed by hand), as the store's client port: grpc-js's server
 * call stack cost about as much CPU as a call's own work, and the scheduler's bindings and the
 * components' writes all come through here (`@k8ts/apiserver`'s README, Speed).
 */
export async function listenGrpcApi(api: ApiServer, options: ApiServiceOptions & { host?: string; port?: number } = {}): Promise<GrpcApiListener> {
  const server = new GrpcServer();
  registerApiService(server, api, options.bookmarkIntervalMs === undefined ? {} : { bookmarkIntervalMs: options.bookmarkIntervalMs });
  const host = options.host ?? '127.0.0.1';
  // Nagle off, as Go's net and grpc-js have it: an answer written in pieces must not wait for a delayed ACK.
  const listener = createServer({ noDelay: true }, (socket) => server.acceptConnection(socket));
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(options.port ?? 0, host, () => resolve());
  });
  listener.on('error', () => undefined);
  const port = (listener.address() as AddressInfo).port;
  return {
    address: `${host}:${port}`,
    shutdown: async () => {
      listener.close();
      const force = setTimeout(() => server.close(), SHUTDOWN_GRACE_MS);
      await server.shutdown();
      clearTimeout(force);
    },
    forceShutdown: () => {
      listener.close();
      server.close();
    },
  };
}
