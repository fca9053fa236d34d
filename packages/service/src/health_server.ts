import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { listen, writeMetrics, type MetricsSource } from './http.js';

export interface HealthServerOptions {
  readonly bindAddress: string;
  /** 0 turns the server off. */
  readonly port: number;
  /** /healthz, /livez and /readyz answer 200 "ok" while this is true, 500 otherwise. */
  readonly healthy: () => boolean;
  /** The body of a 500 answer (default "not ready"). */
  readonly unhealthyText?: string;
  /** /metrics in Prometheus' text format. */
  readonly metrics?: MetricsSource;
  readonly logger?: Logger;
}

/** Plain HTTP /healthz and /metrics, as kube's components serve them on their ports. */
export async function serveHealth(options: HealthServerOptions): Promise<Server | undefined> {
  if (options.port === 0) return undefined;
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      const ok = options.healthy();
      response.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain' }).end(ok ? 'ok' : (options.unhealthyText ?? 'not ready'));
    } else if (path === '/metrics' && options.metrics !== undefined) {
      writeMetrics(response, options.metrics, options.logger);
    } else {
      response.writeHead(404).end();
    }
  });
  await listen(server, options.port, options.bindAddress);
  return server;
}
