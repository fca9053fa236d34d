import { EventEmitter } from 'node:events';
import { ApiError, findResource, type ResourceType } from '@k8ts/apimachinery';
import type { KeyValue, RangeResponse, WatchResponse } from '@k8ts/proto';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { EtcdError, type EtcdClient } from './etcd_client.js';
import { ResourceWatchCache, type CachedEvent } from './watch_cache.js';

/**
 * The watch cache through a store outage, against a scripted store client: failed lists are tried
 * again with back-off (never an unhandled rejection), a compaction ends watchers with 410 and
 * relists, watches are refused with 429 while it does, an undecodable value or a throwing watcher
 * does not take the cache (or the process) down.
 */
const configMaps = findResource('', 'v1', 'configmaps') as ResourceType;
const fastBackoff = { firstMs: 1, maxMs: 4 };

class FakeWatchStream extends EventEmitter {
  readonly requests: unknown[] = [];
  cancelled = false;
  write(request: unknown): boolean {
    this.requests.push(request);
    return true;
  }
  cancel(): void {
    this.cancelled = true;
  }
}

/** A store client whose answers the test scripts: `ranges` are taken in order (an Error rejects). */
class FakeEtcd {
  readonly ranges: (RangeResponse | Error)[] = [];
  rangeCalls = 0;
  readonly streams: FakeWatchStream[] = [];
  rotations = 0;
  range(): Promise<RangeResponse> {
    this.rangeCalls++;
    const next = this.ranges.length > 1 ? this.ranges.shift() : this.ranges[0];
    if (next === undefined) return Promise.reject(new EtcdError(14, 'no answer scripted'));
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }
  watchStream(): FakeWatchStream {
    const stream = new FakeWatchStream();
    this.streams.push(stream);
    return stream;
  }
  rotate(): void {
    this.rotations++;
  }
  currentEndpoint(): number {
    return 0;
  }
}

function kv(name: string, revision: number, value = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } })): KeyValue {
  return { key: Buffer.from(`/registry/configmaps/default/${name}`), value: Buffer.from(value), mod_revision: String(revision), create_revision: String(revision), version: '1', lease: '0' } as KeyValue;
}

function listed(revision: number, ...kvs: KeyValue[]): RangeResponse {
  return { header: { revision: String(revision) }, kvs, more: false, count: String(kvs.length) } as unknown as RangeResponse;
}

function put(...kvs: KeyValue[]): WatchResponse {
  return { canceled: false, compact_revision: '0', events: kvs.map((one) => ({ type: 'PUT', kv: one, prev_kv: null })) } as unknown as WatchResponse;
}

const unavailable = (): EtcdError => new EtcdError(14, 'etcdserver: request timed out');

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (_fields: unknown, message?: string): void => void lines.push(message ?? '');
  return { lines, warn: log, error: log, info: log, debug: log } as unknown as Logger & { lines: string[] };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function newCache(etcd: FakeEtcd, logger = recordingLogger()): ResourceWatchCache {
  return new ResourceWatchCache(configMaps, etcd as unknown as EtcdClient, logger, fastBackoff);
}

describe('ResourceWatchCache through a store outage', () => {
  it('tries a failed first list again until the store answers, and then serves', async () => {
    const etcd = new FakeEtcd();
    etcd.ranges.push(unavailable(), unavailable(), listed(5, kv('a', 4)));
    const cache = newCache(etcd);
    await cache.start();
    expect(etcd.rangeCalls).toBe(3);
    expect(cache.list()?.map((object) => object.metadata?.name)).toEqual(['a']);
    expect(etcd.streams).toHaveLength(1);
    cache.stop();
  });

  it('after a compaction ends watchers with 410 Expired, refuses watches with 429 while the relist fails, then serves again', async () => {
    const etcd = new FakeEtcd();
    etcd.ranges.push(listed(5, kv('a', 4)));
    const cache = newCache(etcd);
    await cache.start();
    const ended: (ApiError | undefined)[] = [];
    await cache.watch({}, () => undefined, (error) => ended.push(error));
    // The store is down when the cache must relist.
    etcd.ranges.splice(0, etcd.ranges.length, unavailable(), unavailable(), unavailable(), listed(20, kv('a', 4), kv('b', 19)));
    (etcd.streams[0] as FakeWatchStream).emit('data', { canceled: true, compact_revision: '10', events: [] });
    expect(ended).toHaveLength(1);
    expect(ended[0]?.status).toMatchObject({ code: 410, reason: 'Expired' });
    expect(cache.list()).toBeUndefined();
    await expect(cache.watch({}, () => undefined, () => undefined)).rejects.toMatchObject({ status: { code: 429, reason: 'TooManyRequests' } });
    await until(() => cache.list() !== undefined, 'the relist');
    expect(etcd.rangeCalls).toBe(5);
    expect(cache.list()?.map((object) => object.metadata?.name).sort()).toEqual(['a', 'b']);
    const seen: string[] = [];
    await cache.watch({ fromRevision: 20 }, (event) => seen.push(`${event.type} ${event.object.metadata?.name}`), () => undefined);
    const resumed = etcd.streams.at(-1) as FakeWatchStream;
    expect(resumed.requests[0]).toMatchObject({ create_request: { start_revision: '21' } });
    resumed.emit('data', put(kv('c', 21)));
    expect(seen).toEqual(['ADDED c']);
    cache.stop();
  });

  it('follows again with back-off when the store watch fails, and catches up from where it was', async () => {
    const etcd = new FakeEtcd();
    etcd.ranges.push(listed(5));
    const cache = newCache(etcd);
    await cache.start();
    const seen: string[] = [];
    await cache.watch({}, (event) => seen.push(`${event.type} ${event.object.metadata?.name}`), () => undefined);
    (etcd.streams[0] as FakeWatchStream).emit('data', put(kv('a', 6)));
    (etcd.streams[0] as FakeWatchStream).emit('error', new Error('14 UNAVAILABLE: connection refused'));
    await until(() => etcd.streams.length === 2, 'a second store watch');
    (etcd.streams[1] as FakeWatchStream).emit('error', new Error('14 UNAVAILABLE: connection refused'));
    await until(() => etcd.streams.length === 3, 'a third store watch');
    const last = etcd.streams[2] as FakeWatchStream;
    expect(last.requests[0]).toMatchObject({ create_request: { start_revision: '7' } });
    last.emit('data', put(kv('b', 7)));
    expect(seen).toEqual(['ADDED a', 'ADDED b']);
    expect(etcd.rotations).toBe(2);
    cache.stop();
  });

  it('leaves out a stored value it cannot decode, in a list and in a watch event, and goes on', async () => {
    const etcd = new FakeEtcd();
    const logger = recordingLogger();
    etcd.ranges.push(listed(5, kv('a', 3), kv('broken', 4, '{not json')));
    const cache = newCache(etcd, logger);
    await cache.start();
    expect(cache.list()?.map((object) => object.metadata?.name)).toEqual(['a']);
    const seen: CachedEvent[] = [];
    await cache.watch({ fromRevision: 5 }, (event) => seen.push(event), () => undefined);
    const stream = etcd.streams[0] as FakeWatchStream;
    // A key the cache held turns unreadable: the cache forgets it rather than keep a stale object.
    expect(() => stream.emit('data', put(kv('a', 6, '\u0000garbage'), kv('c', 7)))).not.toThrow();
    expect(seen.map((event) => `${event.type} ${event.object.metadata?.name}`)).toEqual(['ADDED c']);
    expect(cache.cached('default', 'a')).toBeUndefined();
    expect(cache.currentRevision()).toBe(7);
    expect(logger.lines.filter((line) => line.includes('cannot be decoded'))).toHaveLength(2);
    cache.stop();
  });

  it('ends a watcher whose delivery throws with a 500 and keeps delivering to the others', async () => {
    const etcd = new FakeEtcd();
    etcd.ranges.push(listed(5));
    const cache = newCache(etcd);
    await cache.start();
    const ended: (ApiError | undefined)[] = [];
    await cache.watch({}, () => {
      throw new Error('socket gone');
    }, (error) => ended.push(error));
    const seen: string[] = [];
    await cache.watch({}, (event) => seen.push(event.object.metadata?.name ?? ''), () => undefined);
    const stream = etcd.streams[0] as FakeWatchStream;
    expect(() => stream.emit('data', put(kv('a', 6)))).not.toThrow();
    stream.emit('data', put(kv('b', 7)));
    expect(seen).toEqual(['a', 'b']);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toBeInstanceOf(ApiError);
    expect(ended[0]?.status.code).toBe(500);
    cache.stop();
  });
});
