import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersionOf, type ResourceType } from '@k8ts/apimachinery';
import { statusOf } from './http_io.js';
import type { CachedEvent, ResourceWatchCache, WatchOptions } from '../watch_cache.js';
import type { KubeObject } from '../object_store.js';

/** Events a slow watcher may have waiting before the server ends its watch (kube does the same). */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** The longest delay Node's timers take (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

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
 * longer holds gets one ERROR event carrying the 410 Expired Status, as client-go expects. Never
 * rejects once the 200 is sent (a Status could no longer be sent): any failure is an ERROR event.
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
  // Any error, an ApiError or not (a store failure), ends the watch with its Status as kube does.
  const finish = (error?: unknown): void => {
    if (closed) return;
    if (error !== undefined) write({ type: 'ERROR', object: statusOf(error) });
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
  // A broken connection must end this watch, never the process.
  response.on('error', () => finish());
  const deliver = (event: CachedEvent): void => write({ type: event.type, object: options.render(event.object) });
  try {
    watcher = await cache.watch(options, deliver, (error) => finish(error));
  } catch (error) {
    finish(error);
    return;
  }
  if (closed) {
    watcher.close();
    return;
  }
  // A timer longer than Node's (2^31-1 ms) fires at once: a longer timeout is no timeout.
  if (options.timeoutSeconds !== undefined && options.timeoutSeconds > 0 && options.timeoutSeconds * 1000 <= MAX_TIMER_MS) {
    timers.push(setTimeout(() => finish(), options.timeoutSeconds * 1000));
  }
  if (options.bookmarks) {
    timers.push(
      setInterval(() => {
        write({ type: 'BOOKMARK', object: { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(cache.currentRevision()) } } });
      }, options.bookmarkIntervalMs),
    );
  }
}
