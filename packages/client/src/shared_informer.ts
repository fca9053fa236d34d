import type { Logger } from 'pino';
import { realClock, sleep, type Clock, type TimerHandle } from '@k8ts/base';
import { isExpired } from './errors.js';
import { Indexer, Lister, objectKey, type IndexFunc } from './indexer.js';
import type { KubeObject, ResourceClient, Watch, WatchEvent } from './resource_client.js';

/**
 * A shared informer: one list+watch of a resource kept in a local Indexer, fanned out to any number
 * of event handlers (client-go's SharedIndexInformer).
 *
 * Contract:
 * - It lists (a page at a time, every page at the first page's revision), then watches from the
 *   list's resourceVersion, so no change is missed or seen twice. A watch that ends or breaks is
 *   resumed from the last resourceVersion seen (bookmarks included), on another API server when the
 *   client failed over. A 410 Expired (the server no longer holds that version) makes it list again.
 * - Ordering: handlers see one resource's changes in the store's revision order, one at a time.
 *   When a handler runs, the indexer already reflects that change (and nothing later).
 * - After a relist, handlers get the difference from what the cache held: onAdd for new objects,
 *   onUpdate for changed ones (resourceVersion differs), onDelete (with the last state known) for
 *   objects that are gone. Changes in between may thus be coalesced — handlers must be
 *   level-triggered: compare desired with observed state, never count events.
 * - Resync (optional): every resyncPeriodMs every cached object is handed to onUpdate(old === new),
 *   so a controller re-checks what it may have dropped.
 * - Handlers are synchronous and must be quick: they run on the informer's path, so a handler should
 *   only enqueue a key (to a RateLimitingQueue). Objects are shared with the cache and with every
 *   other handler: never mutate them. A handler that throws is logged and does not stop the others.
 * - A handler added after start gets onAdd for every object already cached, then changes.
 * - hasSynced() turns true once the first list is in the cache and handed to the handlers.
 */
export interface EventHandler<T> {
  onAdd?(object: T, isInInitialList: boolean): void;
  onUpdate?(oldObject: T, newObject: T): void;
  /** The object's last known state (for a watched delete, with the deletion's resourceVersion). */
  onDelete?(object: T): void;
}

export interface SharedInformerOptions<T extends KubeObject> {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly indexers?: Readonly<Record<string, IndexFunc<T>>>;
  /** 0 or undefined: no resync. */
  readonly resyncPeriodMs?: number;
  readonly pageSize?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Bounds of the retry backoff after a failed list or watch. */
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Each watch asks the server to end it after [min, 2·min) seconds, as client-go's reflector. */
  readonly watchTimeoutSecondsMin?: number;
}

export class SharedInformer<T extends KubeObject> {
  readonly indexer: Indexer<T>;
  private readonly handlers = new Set<EventHandler<T>>();
  private readonly clock: Clock;
  private resourceVersion: string | undefined;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private watch: Watch<T> | undefined;
  private resyncTimer: TimerHandle | undefined;

  constructor(
    private readonly client: ResourceClient<T>,
    private readonly options: SharedInformerOptions<T> = {},
  ) {
    this.indexer = new Indexer<T>(options.indexers ?? {});
    this.clock = options.clock ?? realClock;
  }

  lister(): Lister<T> {
    return new Lister(this.indexer);
  }

  /** Registers a handler; it first gets onAdd for every object already cached. */
  addEventHandler(handler: EventHandler<T>): { remove(): void } {
    this.handlers.add(handler);
    if (this.synced) for (const object of this.indexer.list()) this.call('onAdd', () => handler.onAdd?.(object, true));
    return { remove: () => void this.handlers.delete(handler) };
  }

  /** Starts listing and watching (once). */
  run(): void {
    if (this.running !== undefined) return;
    this.running = this.loop();
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.watch?.close();
    this.resyncTimer?.cancel();
    await this.running;
    for (const wake of this.syncWaiters.splice(0)) wake();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, false if stopped first. */
  async waitForSync(): Promise<boolean> {
    if (!this.synced && !this.stopping.signal.aborted) await new Promise<void>((wake) => this.syncWaiters.push(wake));
    return this.synced;
  }

  /** The resourceVersion the cache reflects (of the last list, event or bookmark). */
  lastSyncResourceVersion(): string {
    return this.resourceVersion ?? '';
  }

  private async loop(): Promise<void> {
    const signal = this.stopping.signal;
    let backoffMs = 0;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.listAndReplace();
        backoffMs = 0;
        await this.watchFromLastVersion(() => (backoffMs = 0));
      } catch (error) {
        if (signal.aborted) break;
        if (isExpired(error)) {
          this.options.logger?.info({ resource: this.client.gvr.resource, resourceVersion: this.resourceVersion }, 'watch expired (410); relisting');
          this.resourceVersion = undefined;
          continue;
        }
        backoffMs = Math.min(Math.max(backoffMs * 2, this.options.backoffInitialMs ?? 50), this.options.backoffMaxMs ?? 5_000);
        this.options.logger?.warn({ resource: this.client.gvr.resource, err: (error as Error).message, retryInMs: backoffMs }, 'list/watch failed; retrying');
        await sleep(this.clock, backoffMs, signal);
      }
    }
  }

  private async listAndReplace(): Promise<void> {
    const items: T[] = [];
    let version: string | undefined;
    let token: string | undefined;
    do {
      const page = await this.client.list({
        ...this.selectors(),
        limit: this.options.pageSize ?? 500,
        ...(token === undefined ? {} : { continue: token }),
      });
      items.push(...page.items);
      version ??= page.resourceVersion;
      token = page.continue;
    } while (token !== undefined && !this.stopping.signal.aborted);
    if (this.stopping.signal.aborted) return;
    this.replace(items);
    this.resourceVersion = version;
    if (!this.synced) {
      this.synced = true;
      for (const wake of this.syncWaiters.splice(0)) wake();
    }
  }

  private async watchFromLastVersion(progressed: () => void): Promise<void> {
    const min = this.options.watchTimeoutSecondsMin ?? 300;
    const watch = this.client.watch({
      ...this.selectors(),
      resourceVersion: this.resourceVersion ?? '',
      allowBookmarks: true,
      timeoutSeconds: Math.floor(min * (1 + Math.random())),
    });
    this.watch = watch;
    try {
      if (this.stopping.signal.aborted) return;
      for await (const event of watch) {
        this.apply(event);
        progressed();
      }
    } finally {
      watch.close();
    }
  }

  private apply(event: WatchEvent<T>): void {
    const object = event.object;
    if (event.type === 'DELETED') {
      if (this.indexer.delete(object) !== undefined) this.notifyDelete(object);
    } else if (event.type !== 'BOOKMARK') {
      const previous = this.indexer.upsert(object);
      if (previous === undefined) this.notifyAdd(object, false);
      else this.notifyUpdate(previous, object);
    }
    const version = object.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
  }

  /** Makes the cache hold exactly `items`, telling handlers the difference. */
  private replace(items: readonly T[]): void {
    const initial = !this.synced;
    const seen = new Set<string>();
    for (const object of items) {
      const previous = this.indexer.upsert(object);
      seen.add(objectKey(object));
      if (previous === undefined) this.notifyAdd(object, initial);
      else if (previous.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.notifyUpdate(previous, object);
    }
    for (const key of this.indexer.listKeys()) {
      if (seen.has(key)) continue;
      const gone = this.indexer.deleteKey(key);
      if (gone !== undefined) this.notifyDelete(gone);
    }
  }

  private scheduleResync(): void {
    const period = this.options.resyncPeriodMs ?? 0;
    if (period <= 0 || this.stopping.signal.aborted) return;
    this.resyncTimer = this.clock.schedule(period, () => {
      if (this.synced) for (const object of this.indexer.list()) this.notifyUpdate(object, object);
      this.scheduleResync();
    });
  }

  private selectors(): { labelSelector?: string; fieldSelector?: string } {
    return {
      ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
      ...(this.options.fieldSelector ? { fieldSelector: this.options.fieldSelector } : {}),
    };
  }

  private notifyAdd(object: T, initial: boolean): void {
    for (const handler of this.handlers) this.call('onAdd', () => handler.onAdd?.(object, initial));
  }

  private notifyUpdate(previous: T, object: T): void {
    for (const handler of this.handlers) this.call('onUpdate', () => handler.onUpdate?.(previous, object));
  }

  private notifyDelete(object: T): void {
    for (const handler of this.handlers) this.call('onDelete', () => handler.onDelete?.(object));
  }

  private call(what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.options.logger?.error({ resource: this.client.gvr.resource, handler: what, err: (error as Error).message }, 'event handler threw');
    }
  }
}
