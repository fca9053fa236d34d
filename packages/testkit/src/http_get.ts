import { get } from 'node:http';

/**
 * GET `url` over a connection of its own (as curl does), resolving with the body parsed as JSON.
 * fetch() keeps connections alive and reuses them, so through an L4 proxy (a Service) every request
 * would reach the backend the first one did.
 */
export function getJsonOnce<T>(url: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        try {
          if ((response.statusCode ?? 0) >= 400) throw new Error(`GET ${url}: ${response.statusCode}`);
          resolve(JSON.parse(Buffer.concat(chunks).toString()) as T);
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}
