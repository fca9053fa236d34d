import { apiErrors, type ApiError, type ResourceType } from '@k8ts/apimachinery';
import type { WatchResponse } from '@k8ts/proto';
import type { Logger } from 'pino';
import { prefixEnd, type EtcdClient } from './etcd_client.js';
import { collectionPrefix, decodeObject, objectKey, type KubeObject } from './object_store.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CachedEvent {
  readonly type: WatchEventType;
  readonly object: KubeObject;
  /** The store revision of the change (a DELETED object carries it as its resourceVersion). */
  readonly revision: number;
}

export interface WatchOptions {
  readonly namespace?: string;
  /**
   * undefined: the current objects as ADDED events, then every change (kube's resourceVersion "" and
   * "0"); a number: every change after that revision, or 410 Expired when it is older than the cache.
   */
  readonly fromRevision?: number;
  /** Which objects the watcher sees (label and field selectors), applied to old and new state alike. */
  readonly filter?: (object: KubeObject) => boolean;
}

/** A registered watcher: events arrive through `deliver` in revision order until `close`. */
export interface CacheWatcher {
  close(): void;
}

/** Events kept for watchers resuming from a recent revision. */
const HISTORY_EVENTS = 10_000;
/**
 * The history is trimmed back to HISTORY_EVENTS only once it holds this many: dropping the oldest
 * event on every event moved the whole array each time (~50 µs an event, 6% of a busy apiserver).
 */
const HISTORY_TRIM_AT = HISTORY_EVENTS + HISTORY_EVENTS / 4;

/** How long to wait before trying a failed store list or watch again: doubling from first to max. */
export interface RetryBackoff {
  readonly firstMs: number;
  readonly maxMs: number;
}

/** kube's reflector backs off from 800 ms to 30 s; the cache retries sooner so it is back quickly. */
const DEFAULT_BACKOFF: RetryBackoff = { firstMs: 200, maxMs: 5_000 };

type Watcher = { options: WatchOptions; deliver: (event: CachedEvent) => void; end: (error?: ApiError) => void };

/**
 * One resource's objects, kept current by one etcd watch: every API watch on the resource is served
 * from here (kube-apiserver's cacher), so N watchers cost one store watch. It holds the current
 * objects and a window of recent events for watches that resume from a resourceVersion.
 */
export class ResourceWatchCache {
  private objects = new Map<string, KubeObject>();
  private history: CachedEvent[] = [];
  /** Revision of the oldest state the history can replay from (the last list). */
  private oldestRevision = 0;
  private revision = 0;
  private readonly watchers = new Set<Watcher>();
  private ready: Promise<void> | undefined;
  /** Whether a list has filled `objects` (from then on it follows the store). */
  private synced = false;
  /** A relist after falling behind compaction is under way: `objects` are stale until it ends. */
  private relisting = false;
  /** The wait before the next retry of a failed list or watch; back to the first after a success. */
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private stream: ReturnType<EtcdClient['watchStream']> | undefined;
  /** Ends the current store watch without resuming it (its handlers go quiet). */
  private retire: (() => void) | undefined;
  /** The store endpoint the current watch stream is on. */
  private streamEndpoint = -1;

  constructor(
    readonly type: ResourceType,
    private readonly etcd: EtcdClient,
    private readonly logger: Logger,
    private readonly backoff: RetryBackoff = DEFAULT_BACKOFF,
  ) {
    this.retryMs = backoff.firstMs;
  }

  /**
   * Lists the resource, then follows it from the list's revision. A failed list is tried again with
   * back-off until the store answers (kube's cacher does the same), so this never rejects.
   */
  start(): Promise<void> {
    this.ready ??= new Promise((resolve) => this.relistUntilDone(resolve));
    return this.ready;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stream?.cancel();
    this.endAll();
  }

  /** The cached object, if the cache has it (it may trail the store by a moment). */
  cached(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(objectKey(this.type, namespace, name));
  }

  /**
   * Every cached object (it may trail the store by a moment), or undefined before the first list
   * has filled the cache: an empty cache then would say "none" where the store may hold some.
   */
  list(): KubeObject[] | undefined {
    return this.synced && !this.relisting ? [...this.objects.values()] : undefined;
  }

  /**
   * The store client moved to another member (the leader it found): follow from there. A member cut
   * off from its peers keeps a watch open but silent, so staying on it would stall the cache.
   */
  moveStream(): void {
    if (this.stopped || this.stream === undefined || this.streamEndpoint === this.etcd.currentEndpoint()) return;
    this.retire?.();
    this.follow(this.revision + 1);
  }

  /** The newest revision the cache reflects. */
  currentRevision(): number {
    return this.revision;
  }

  /**
   * Registers a watcher. Throws 410 Expired (kube's "too old resource version") when the history
   * no longer reaches `fromRevision`, and 429 while the cache relists (kube's cacher rejects
   * watches rather than hang them while it is not ready: KEP-4568).
   */
  async watch(options: WatchOptions, deliver: (event: CachedEvent) => void, end: (error?: ApiError) => void): Promise<CacheWatcher> {
    await this.start();
    if (this.relisting) throw apiErrors.tooManyRequests('storage is (re)initializing', 1);
    const from = options.fromRevision;
    if (from !== undefined && from < this.oldestRevision && from < this.revision) {
      throw apiErrors.expired(`too old resource version: ${from} (${this.oldestRevision})`);
    }
    const watcher = { options, deliver, end };
    const visible = (object: KubeObject): boolean =>
      (options.namespace === undefined || object.metadata?.namespace === options.namespace) && (options.filter?.(object) ?? true);
    if (from === undefined) {
      for (const object of this.objects.values()) {
        if (visible(object)) deliver({ type: 'ADDED', object, revision: Number(object.metadata?.resourceVersion) });
      }
    } else {
      for (const event of this.history) if (event.revision > from) this.offer(watcher, event, visible);
    }
    // A client may list at a revision the cache has not reached yet: never repeat what it has.
    const registered = {
      ...watcher,
      deliver: (event: CachedEvent) => {
        if (from === undefined || event.revision > from) this.offer(watcher, event, visible);
      },
    };
    this.watchers.add(registered);
    return { close: () => this.watchers.delete(registered) };
  }

  /**
   * Delivers an event as the watcher sees it: an object leaving its selector is DELETED for it,
   * one entering is ADDED (kube's cacher does the same with old and new state).
   */
  private offer(watcher: { deliver: (event: CachedEvent) => void }, event: CachedEvent & { previous?: KubeObject }, visible: (o: KubeObject) => boolean): void {
    const now = visible(event.object);
    const before = event.previous !== undefined && visible(event.previous);
    if (event.type === 'MODIFIED') {
      if (now && before) watcher.deliver(event);
      else if (now) watcher.deliver({ ...event, type: 'ADDED' });
      else if (before) watcher.deliver({ ...event, type: 'DELETED' });
      return;
    }
    if (now) watcher.deliver(event);
  }

  private async relist(): Promise<void> {
    const prefix = Buffer.from(collectionPrefix(this.type));
    const response = await this.etcd.range({ key: prefix, range_end: prefixEnd(prefix) });
    const objects = new Map<string, KubeObject>();
    for (const kv of response.kvs) {
      const object = this.decode(kv);
      if (object !== undefined) objects.set(kv.key.toString('utf8'), object);
    }
    this.objects = objects;
    this.revision = Number(response.header?.revision ?? 0);
    this.oldestRevision = this.revision;
    this.history = [];
    this.synced = true;
    this.follow(this.revision + 1);
  }

  /**
   * Lists (first, or again after falling behind compaction), trying again with back-off while the
   * store fails; `done` runs once a list succeeded.
   */
  private relistUntilDone(done?: () => void): void {
    if (this.stopped) return;
    this.relist().then(
      () => {
        this.relisting = false;
        this.retryMs = this.backoff.firstMs;
        done?.();
      },
      (error: unknown) => {
        this.logger.warn({ resource: this.type.resource, err: error instanceof Error ? error.message : String(error), retryMs: this.retryMs }, 'list failed; trying again');
        this.etcd.rotate();
        this.retryLater(() => this.relistUntilDone(done));
      },
    );
  }

  private retryLater(action: () => void): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(action, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, this.backoff.maxMs);
  }

  /** The stored object, or undefined (logged) when its value is not an object this server can read. */
  private decode(kv: NonNullable<WatchResponse['events'][number]['kv']>): KubeObject | undefined {
    try {
      return decodeObject(kv);
    } catch (error) {
      this.logger.error({ resource: this.type.resource, key: kv.key.toString('utf8'), revision: String(kv.mod_revision), err: String(error) }, 'stored value cannot be decoded; left out of the watch cache');
      return undefined;
    }
  }

  /** Ends every watcher (with `error`: an ERROR event first); one failing to end does not stop the rest. */
  private endAll(error?: ApiError): void {
    const watchers = [...this.watchers];
    this.watchers.clear();
    for (const watcher of watchers) {
      try {
        watcher.end(error);
      } catch (failure) {
        this.logger.warn({ resource: this.type.resource, err: String(failure) }, 'ending a watcher failed');
      }
    }
  }

  /** Hands an event to every watcher; a watcher whose delivery throws is ended, the others go on. */
  private deliverAll(event: CachedEvent): void {
    for (const watcher of [...this.watchers]) {
      try {
        watcher.deliver(event);
      } catch (error) {
        this.watchers.delete(watcher);
        this.logger.warn({ resource: this.type.resource, err: String(error) }, 'delivering a watch event failed; ending that watch');
        try {
          watcher.end(apiErrors.internal(`watch event could not be delivered: ${String(error)}`));
        } catch {
          // Its connection is already gone.
        }
      }
    }
  }

  private follow(startRevision: number): void {
    if (this.stopped) return;
    const prefix = Buffer.from(collectionPrefix(this.type));
    const stream = this.etcd.watchStream();
    this.stream = stream;
    this.streamEndpoint = this.etcd.currentEndpoint();
    let failed = false;
    const fail = (why: string): void => {
      if (failed || this.stopped) return;
      failed = true;
      stream.cancel();
      this.stream = undefined;
      this.logger.warn({ resource: this.type.resource, why, retryMs: this.retryMs }, 'store watch ended; resuming');
      this.etcd.rotate();
      this.retryLater(() => this.follow(this.revision + 1));
    };
    this.retire = () => {
      failed = true;
      stream.cancel();
    };
    stream.on('data', (response: WatchResponse) => {
      if (failed) return;
      if (response.canceled) {
        if (Number(response.compact_revision) > 0) {
          // Fell behind compaction: start over from a fresh list; watchers must re-list too (410,
          // which client-go's reflector answers with a relist).
          failed = true;
          stream.cancel();
          this.stream = undefined;
          this.relisting = true;
          this.endAll(apiErrors.expired(`too old resource version: ${this.revision} (${response.compact_revision})`));
          this.relistUntilDone();
        } else fail(response.cancel_reason || 'canceled');
        return;
      }
      // The store answers again: the next failure starts its back-off from the beginning.
      this.retryMs = this.backoff.firstMs;
      for (const raw of response.events) this.apply(raw);
    });
    stream.on('error', (error: Error) => fail(error.message));
    stream.on('end', () => fail('stream ended'));
    stream.write({
      request_union: 'create_request',
      create_request: {
        key: prefix,
        range_end: prefixEnd(prefix),
        start_revision: String(startRevision),
        // The cache holds every object, so it knows each one's previous state: asking the store for
        // it would double what every event costs the store and this process.
        prev_kv: false,
        progress_notify: false,
        filters: [],
        watch_id: '0',
        fragment: false,
      },
    });
  }

  private apply(raw: WatchResponse['events'][number]): void {
    const kv = raw.kv;
    if (kv === null) return;
    const key = kv.key.toString('utf8');
    const revision = Number(kv.mod_revision);
    const previous = this.objects.get(key);
    let event: CachedEvent & { previous?: KubeObject };
    if (raw.type === 'DELETE') {
      const last = previous;
      if (last === undefined) return;
      // A deleted object is reported with the revision of its deletion, as kube does.
      const object = { ...last, metadata: { ...last.metadata, resourceVersion: String(revision) } };
      this.objects.delete(key);
      event = { type: 'DELETED', object, revision };
    } else {
      const object = this.decode(kv);
      if (object === undefined) {
        // Not readable: the cache no longer claims to know this key's object.
        this.objects.delete(key);
        this.revision = Math.max(this.revision, revision);
        return;
      }
      this.objects.set(key, object);
      event = previous === undefined ? { type: 'ADDED', object, revision } : { type: 'MODIFIED', object, revision, previous };
    }
    this.revision = Math.max(this.revision, revision);
    this.history.push(event);
    if (this.history.length > HISTORY_TRIM_AT) {
      const dropped = this.history.splice(0, this.history.length - HISTORY_EVENTS);
      this.oldestRevision = (dropped.at(-1) as CachedEvent).revision;
    }
    this.deliverAll(event);
  }
}
