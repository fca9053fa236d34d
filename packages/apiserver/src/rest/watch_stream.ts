import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersionOf, type ApiError, type ResourceType } from '@k8ts/apimachinery';
import type { CachedEvent, ResourceWatchCache, WatchOptions } from '../watch_cache.js';
import type { KubeObject } from '../object_store.js';

/** Events a slow watcher may have waiting before the server ends its watch (kube does the same). */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;

export interface HttpWatchOptions extends WatchOptions {
  readonly timeoutSeconds?: number;
  readonly bookmarks: boolean;
  readonly bookmarkIntervalMs: number;
  /** How each event's object is written (a one-row Table for kubectl get -w, else the object). */
  readonly render: (object: KubeObject) => unknown;
}

/**
 * Serves a watch as kube-apiserver does: HTTP 200 with a chunked stream of JSON lines
 * `{"type":"ADDED","object":{...}}`, ending at timeoutSeconds. A watch from a revision the cache no
 * longer holds gets one ERROR event carrying the 410 Expired Status, as client-go expects.
 */
export async function serveWatch(
  request: IncomingMessage,
  response: ServerResponse,
  type: ResourceType,
  cache: ResourceWatchCache,
  options: HttpWatchOptions,
): Promise<void> {
  response.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  response.flushHeaders();
  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  let watcher: { close(): void } | undefined;
  const finish = (error?: ApiError): void => {
    if (closed) return;
    if (error) write({ type: 'ERROR', object: error.status });
    closed = true;
    for (const timer of timers) clearTimeout(timer), clearInterval(timer);
    watcher?.close();
    response.end();
  };
  const write = (event: unknown): void => {
    if (closed) return;
    response.write(JSON.stringify(event) + '\n');
    if (response.writableLength > MAX_PENDING_BYTES) finish();
  };
  request.on('close', () => finish());
  const deliver = (event: CachedEvent): void => write({ type: event.type, object: options.render(event.object) });
  try {
    watcher = await cache.watch(options, deliver, (error) => finish(error));
  } catch (error) {
    finish(error as ApiError);
    return;
  }
  if (closed) {
    watcher.close();
    return;
  }
  if (options.timeoutSeconds !== undefined && options.timeoutSeconds > 0) timers.push(setTimeout(() => finish(), options.timeoutSeconds * 1000));
  if (options.bookmarks) {
    timers.push(
      setInterval(() => {
        write({ type: 'BOOKMARK', object: { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(cache.currentRevision()) } } });
      }, options.bookmarkIntervalMs),
    );
  }
}
