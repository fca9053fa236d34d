import { EventEmitter } from 'node:events';
import { findResource, type ResourceType } from '@k8ts/apimachinery';
import type { ApiWatchEvent, ApiWatchRequest } from '@k8ts/proto';
import { describe, expect, it } from 'vitest';
import { EtcdError } from '../etcd_client.js';
import type { CachedEvent, ResourceWatchCache } from '../watch_cache.js';
import { serveWatch } from './watch.js';

/**
 * The gRPC Watch when the store fails underneath it: a failure that is not an ApiError (the store
 * client's own error, a plain Error) ends the call with an ERROR event carrying a Status, and
 * serveWatch never rejects (its caller does `void serveWatch(...)`).
 */
const configMaps = findResource('', 'v1', 'configmaps') as ResourceType;

class FakeCall extends EventEmitter {
  readonly written: ApiWatchEvent[] = [];
  ended = false;
  constructor(
    readonly request: ApiWatchRequest,
    private readonly failWrites = false,
  ) {
    super();
  }
  write(event: ApiWatchEvent): boolean {
    if (this.failWrites) throw new Error('write after the call was cancelled');
    this.written.push(event);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  fail(): void {
    this.ended = true;
  }
}

const request: ApiWatchRequest = {
  ref: { group: '', version: 'v1', resource: 'configmaps', namespace: '', name: '' } as ApiWatchRequest['ref'],
  label_selector: '',
  field_selector: '',
  resource_version: '',
  allow_bookmarks: false,
  timeout_seconds: 0,
};

function cacheFailingWith(error: unknown): ResourceWatchCache {
  return { watch: () => Promise.reject(error), currentRevision: () => 0 } as unknown as ResourceWatchCache;
}

function serve(call: FakeCall, cache: ResourceWatchCache): Promise<void> {
  return serveWatch(call as never, { caches: new Map([[configMaps, cache]]), bookmarkIntervalMs: 60_000 });
}

describe('gRPC Watch when the store fails', () => {
  it('ends with an ERROR event carrying a 503/504 Status for a store error', async () => {
    const call = new FakeCall(request);
    await serve(call, cacheFailingWith(new EtcdError(14, 'etcdserver: request timed out')));
    expect(call.written).toHaveLength(1);
    expect(call.written[0]?.type).toBe('ERROR');
    const status = JSON.parse(Buffer.from(call.written[0]?.object as Uint8Array).toString()) as { kind: string; code: number };
    expect(status.kind).toBe('Status');
    // The store error's own mapping (rest/http_io.ts statusOf) decides which of kube's two it is.
    expect([503, 504]).toContain(status.code);
    expect(call.ended).toBe(true);
  });

  it('ends with a 500 Status for an error that is neither an ApiError nor a store error', async () => {
    const call = new FakeCall(request);
    await serve(call, cacheFailingWith(new TypeError('boom')));
    expect(JSON.parse(Buffer.from(call.written[0]?.object as Uint8Array).toString())).toMatchObject({ code: 500, reason: 'InternalError' });
  });

  it('does not reject when the call can no longer be written to', async () => {
    const call = new FakeCall(request, true);
    await expect(serve(call, cacheFailingWith(new Error('store gone')))).resolves.toBeUndefined();
  });

  it('ends a watch whose event cannot be written, and the cache is told to drop it', async () => {
    const call = new FakeCall(request, true);
    let deliver: ((event: CachedEvent) => void) | undefined;
    let closed = false;
    const cache = {
      watch: (_options: unknown, give: (event: CachedEvent) => void) => {
        deliver = give;
        return Promise.resolve({ close: () => (closed = true) });
      },
      currentRevision: () => 0,
    } as unknown as ResourceWatchCache;
    await serve(call, cache);
    expect(() => deliver?.({ type: 'ADDED', object: { metadata: { name: 'a' } }, revision: 2 })).not.toThrow();
    expect(closed).toBe(true);
  });
});
