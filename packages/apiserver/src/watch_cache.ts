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
  private readonly watchers = new Set<{ options: WatchOptions; deliver: (event: CachedEvent) => void; end: (error?: ApiError) => void }>();
  private ready: Promise<void> | undefined;
  /** Whether a list has filled `objects` (from then on it follows the store). */
  private synced = false;
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
  ) {}

  /** Lists the resource, then follows it from the list's revision. */
  start(): Promise<void> {
    this.ready ??= this.relist();
    return this.ready;
  }

  stop(): void {
    this.stopped = true;
    this.stream?.cancel();
    for (const watcher of this.watchers) watcher.end();
    this.watchers.clear();
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
    return this.synced ? [...this.objects.values()] : undefined;
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
   * no longer reaches `fromRevision`.
   */
  async watch(options: WatchOptions, deliver: (event: CachedEvent) => void, end: (error?: ApiError) => void): Promise<CacheWatcher> {
    await this.start();
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
    this.objects = new Map(response.kvs.map((kv) => [kv.key.toString('utf8'), decodeObject(kv)]));
    this.revision = Number(response.header?.revision ?? 0);
    this.oldestRevision = this.revision;
    this.history = [];
    this.synced = true;
    this.follow(this.revision + 1);
  }

  /** Relists after falling behind compaction, trying again every 200 ms while the store fails. */
  private relistUntilDone(): void {
    if (this.stopped) return;
    this.relist().catch((error: unknown) => {
      this.logger.warn({ resource: this.type.resource, err: (error as Error).message }, 'relist failed; trying again');
      this.etcd.rotate();
      setTimeout(() => this.relistUntilDone(), 200);
    });
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
      this.logger.warn({ resource: this.type.resource, why }, 'store watch ended; resuming');
      this.etcd.rotate();
      setTimeout(() => this.follow(this.revision + 1), 200);
    };
    this.retire = () => {
      failed = true;
      stream.cancel();
    };
    stream.on('data', (response: WatchResponse) => {
      if (failed) return;
      if (response.canceled) {
        if (Number(response.compact_revision) > 0) {
          // Fell behind compaction: start over from a fresh list; watchers must re-list too.
          failed = true;
          stream.cancel();
          for (const watcher of this.watchers) watcher.end(apiErrors.expired(`too old resource version: ${this.revision} (${response.compact_revision})`));
          this.watchers.clear();
          this.relistUntilDone();
        } else fail(response.cancel_reason || 'canceled');
        return;
      }
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
      const object = decodeObject(kv);
      this.objects.set(key, object);
      event = previous === undefined ? { type: 'ADDED', object, revision } : { type: 'MODIFIED', object, revision, previous };
    }
    this.revision = Math.max(this.revision, revision);
    this.history.push(event);
    if (this.history.length > HISTORY_EVENTS) {
      const dropped = this.history.splice(0, this.history.length - HISTORY_EVENTS);
      this.oldestRevision = (dropped.at(-1) as CachedEvent).revision;
    }
    for (const watcher of this.watchers) watcher.deliver(event);
  }
}
