import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';

export interface HealthServerOptions {
  readonly bindAddress: string;
  /** 0 turns the server off. */
  readonly port: number;
  /** /healthz, /livez and /readyz answer 200 "ok" while this is true, 500 otherwise. */
  readonly healthy: () => boolean;
  /** /metrics in Prometheus' text format (a prom-client Registry fits). */
  readonly metrics?: { metrics(): Promise<string>; readonly contentType: string };
  readonly logger?: Logger;
}

/** Plain HTTP /healthz and /metrics, as kube's components serve them on their ports. */
export function serveHealth(options: HealthServerOptions): Promise<Server | undefined> {
  if (options.port === 0) return Promise.resolve(undefined);
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      const ok = options.healthy();
      response.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not ready');
    } else if (path === '/metrics' && options.metrics !== undefined) {
      const metrics = options.metrics;
      metrics.metrics().then(
        (text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (error: unknown) => {
          options.logger?.warn({ err: error }, 'metrics not rendered');
          response.writeHead(500).end();
        },
      );
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.bindAddress, () => resolve(server));
  });
}
