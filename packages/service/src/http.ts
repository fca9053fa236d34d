import type { Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Logger } from 'pino';

/** What /metrics renders: a prom-client Registry fits. */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** Starts `server` listening; rejects when the address cannot be bound (in use, not local). */
export function listen(server: HttpServer | HttpsServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Answers a /metrics request: 200 in Prometheus' text format, 500 (logged) when rendering fails. */
export function writeMetrics(response: ServerResponse, source: MetricsSource, logger?: Logger): void {
  source.metrics().then(
    (text) => response.writeHead(200, { 'content-type': source.contentType }).end(text),
    (error: unknown) => {
      logger?.warn({ err: error }, 'metrics not rendered');
      response.writeHead(500).end();
    },
  );
}
