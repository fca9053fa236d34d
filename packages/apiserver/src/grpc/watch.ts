import { apiErrors, apiVersionOf } from '@k8ts/apimachinery';
import type { ApiWatchEvent, ApiWatchRequest, ServerStreamCall } from '@k8ts/proto';
import { selectorFilter } from '../rules.js';
import type { KubeObject } from '../object_store.js';
import type { CachedEvent, ResourceWatchCache } from '../watch_cache.js';
import { resolveRef } from './requests.js';
import { statusOf } from '../rest/http_io.js';
import { toServiceError } from './status.js';

/** Events a slow watcher may have waiting before its watch is ended (it resumes from its last version). */
const MAX_PENDING_EVENTS = 10_000;

export interface WatchServeOptions {
  readonly caches: ReadonlyMap<unknown, ResourceWatchCache>;
  readonly bookmarkIntervalMs: number;
}

/**
 * An object's JSON, encoded once for all the gRPC watches an event goes to (kube-apiserver's
 * cachingObject does the same per format): the watch cache hands every watcher the same, never
 * mutated, object one after the other, and pods are watched by the scheduler, the controller
 * manager and the node agents at once. One entry: only the last event's encoding is kept.
 */
let lastObject: KubeObject | undefined;
let lastBytes: Buffer = Buffer.alloc(0);

function encodedObject(object: KubeObject): Buffer {
  if (object !== lastObject) {
    lastBytes = Buffer.from(JSON.stringify(object));
    lastObject = object;
  }
  return lastBytes;
}

/**
 * Serves one Watch call from the resource's watch cache, as REST's watch: events in revision order,
 * an ERROR event with the Status (410 Expired for a version the cache no longer holds) before the
 * end, periodic BOOKMARKs when asked, and the end at timeout_seconds. Never rejects: whatever
 * fails (the store, a write on a closed call) ends the call with a Status, not the process.
 */
export async function serveWatch(call: ServerStreamCall, options: WatchServeOptions): Promise<void> {
  try {
    await serve(call, options);
  } catch (error) {
    try {
      call.fail(toServiceError(error));
    } catch {
      // The call is already over.
    }
  }
}

async function serve(call: ServerStreamCall, options: WatchServeOptions): Promise<void> {
  const watchRequest = call.request as ApiWatchRequest;
  let request;
  try {
    request = parseWatch(watchRequest);
  } catch (error) {
    call.fail(toServiceError(error));
    return;
  }
  const { type, namespace, filter, fromRevision } = request;
  const cache = options.caches.get(type);
  if (cache === undefined) return call.fail(toServiceError(apiErrors.methodNotSupported(type, 'watch')));
  let closed = false;
  /** Events written and not yet handed to the connection (the client reads slower than they come). */
  let unsent = 0;
  let watcher: { close(): void } | undefined;
  const timers: NodeJS.Timeout[] = [];
  // Any error, an ApiError or not (a store failure), ends the watch with its Status as kube does.
  const finish = (error?: unknown): void => {
    if (closed) return;
    closed = true;
    for (const timer of timers) clearTimeout(timer), clearInterval(timer);
    watcher?.close();
    try {
      if (error !== undefined) call.write({ type: 'ERROR', object: Buffer.from(JSON.stringify(statusOf(error))) });
      call.end();
    } catch {
      // The client is gone: nothing left to tell it.
    }
  };
  const send = (event: ApiWatchEvent): void => {
    if (closed) return;
    try {
      unsent++;
      call.write(event, () => unsent--);
    } catch (error) {
      finish(error);
      return;
    }
    if (unsent > MAX_PENDING_EVENTS) finish();
  };
  call.on('cancelled', () => finish());
  // The cache never repeats what a client listed at fromRevision (ResourceWatchCache.watch).
  const deliver = (event: CachedEvent): void => {
    send({ type: event.type, object: encodedObject(event.object) });
  };
  try {
    watcher = await cache.watch({ ...(namespace === undefined ? {} : { namespace }), ...(fromRevision === undefined ? {} : { fromRevision }), filter }, deliver, finish);
  } catch (error) {
    finish(error);
    return;
  }
  if (closed) return void watcher.close();
  const timeoutSeconds = Number(watchRequest.timeout_seconds);
  if (timeoutSeconds > 0) timers.push(setTimeout(() => finish(), timeoutSeconds * 1000));
  if (watchRequest.allow_bookmarks) {
    const bookmark = (): void => {
      const revision = Math.max(cache.currentRevision(), fromRevision ?? 0);
      send({ type: 'BOOKMARK', object: Buffer.from(JSON.stringify({ kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(revision) } })) });
    };
    timers.push(setInterval(bookmark, options.bookmarkIntervalMs));
  }
}

function parseWatch(request: ApiWatchRequest): ReturnType<typeof resolveRef> & { filter: ReturnType<typeof selectorFilter>; fromRevision: number | undefined } {
  const target = resolveRef(request.ref);
  const filter = selectorFilter(target.type, request.label_selector || undefined, request.field_selector || undefined);
  const version = request.resource_version;
  let fromRevision: number | undefined;
  if (version !== '' && version !== '0') {
    fromRevision = Number(version);
    if (!Number.isSafeInteger(fromRevision) || fromRevision < 0) throw apiErrors.badRequest(`resourceVersion: Invalid value: "${version}": must be a non-negative integer`);
  }
  return { ...target, filter, fromRevision };
}
