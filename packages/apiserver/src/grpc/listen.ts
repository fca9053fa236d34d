import * as grpc from '@grpc/grpc-js';
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

/** A gRPC server with only the Api service, for processes and tests that need nothing more. */
export async function listenGrpcApi(api: ApiServer, options: ApiServiceOptions & { host?: string; port?: number } = {}): Promise<GrpcApiListener> {
  const server = new grpc.Server();
  registerApiService(server, api, options.bookmarkIntervalMs === undefined ? {} : { bookmarkIntervalMs: options.bookmarkIntervalMs });
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `${host}:${port}`,
    // Watch streams never end by themselves: give graceful shutdown a bound, then force.
    shutdown: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
    forceShutdown: () => server.forceShutdown(),
  };
}
