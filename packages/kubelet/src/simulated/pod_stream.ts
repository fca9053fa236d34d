/**
 * One list+watch of the pods bound to any node (field selector `spec.nodeName!=`), handed to a
 * handler and not cached: a fleet of thousands of nodes keeps a compact record per pod instead of
 * the objects a SharedInformer's indexer would hold (150,000 pods would not fit in 1 GiB).
 *
 * Contract, as the shared informer's: a list (a page at a time, all at the first page's revision),
 * then a watch from it; a watch that ends or breaks resumes from the last revision seen (bookmarks
 * too); 410 Expired lists again. After every list the handler learns which pods exist
 * (`relisted`), so those deleted while no watch ran are dropped. Events come in revision order.
 */
import { realClock, sleep, type Clock } from '@k8ts/base';
import { isExpired, type ResourceClient } from '@k8ts/client';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';

export interface PodStreamHandler {
  /** A pod listed, added or modified. */
  upsert(pod: Pod): void;
  /** A pod deleted (its last state). */
  remove(pod: Pod): void;
  /** A list ended: `present` holds the keys (namespace/name) of every pod listed. */
  relisted(present: ReadonlySet<string>): void;
}

export interface PodStreamOptions {
  readonly fieldSelector: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly pageSize?: number;
  /** Each watch asks the server to end it after [min, 2·min) s, as client-go's reflector. */
  readonly watchTimeoutSecondsMin?: number;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

export class PodStream {
  private resourceVersion: string | undefined;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private closeWatch: (() => void) | undefined;
  private syncWaiters: (() => void)[] = [];
  private synced = false;
  private readonly clock: Clock;

  constructor(
    private readonly pods: ResourceClient<Pod>,
    private readonly handler: PodStreamHandler,
    private readonly options: PodStreamOptions,
  ) {
    this.clock = options.clock ?? realClock;
  }

  run(): void {
    this.running ??= this.loop();
  }

  /** Resolves true once the first list is handed over, false if stopped first. */
  async waitForSync(): Promise<boolean> {
    if (!this.synced && !this.stopping.signal.aborted) await new Promise<void>((wake) => this.syncWaiters.push(wake));
    return this.synced;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.closeWatch?.();
    await this.running;
    for (const wake of this.syncWaiters.splice(0)) wake();
  }

  private async loop(): Promise<void> {
    const signal = this.stopping.signal;
    let backoffMs = 0;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        backoffMs = 0;
        await this.watch(() => (backoffMs = 0));
      } catch (error) {
        if (signal.aborted) break;
        if (isExpired(error)) {
          this.options.logger.info({ resourceVersion: this.resourceVersion }, 'pod watch expired (410); listing again');
          this.resourceVersion = undefined;
          continue;
        }
        backoffMs = Math.min(Math.max(backoffMs * 2, 100), 5_000);
        this.options.logger.warn({ err: (error as Error).message, retryInMs: backoffMs }, 'pod list/watch failed; retrying');
        await sleep(this.clock, backoffMs, signal);
      }
    }
  }

  private async list(): Promise<void> {
    const present = new Set<string>();
    let version: string | undefined;
    let token: string | undefined;
    do {
      const page = await this.pods.list({ fieldSelector: this.options.fieldSelector, limit: this.options.pageSize ?? 500, ...(token === undefined ? {} : { continue: token }) });
      if (this.stopping.signal.aborted) return;
      for (const pod of page.items) {
        present.add(podKey(pod));
        this.hand(() => this.handler.upsert(pod), pod);
      }
      version ??= page.resourceVersion;
      token = page.continue;
    } while (token !== undefined);
    this.handler.relisted(present);
    this.resourceVersion = version;
    if (!this.synced) {
      this.synced = true;
      for (const wake of this.syncWaiters.splice(0)) wake();
    }
  }

  /** A handler that throws is logged; the stream goes on (a retry from the same revision would throw again). */
  private hand(call: () => void, pod: Pod): void {
    try {
      call();
    } catch (error) {
      this.options.logger.error({ err: error, pod: podKey(pod) }, 'simulated pod handler failed');
    }
  }

  private async watch(progressed: () => void): Promise<void> {
    const min = this.options.watchTimeoutSecondsMin ?? 300;
    const watch = this.pods.watch({
      fieldSelector: this.options.fieldSelector,
      resourceVersion: this.resourceVersion ?? '',
      allowBookmarks: true,
      timeoutSeconds: Math.floor(min * (1 + Math.random())),
    });
    this.closeWatch = () => watch.close();
    try {
      if (this.stopping.signal.aborted) return;
      for await (const event of watch) {
        if (event.type === 'DELETED') this.hand(() => this.handler.remove(event.object), event.object);
        else if (event.type !== 'BOOKMARK') this.hand(() => this.handler.upsert(event.object), event.object);
        const version = event.object.metadata?.resourceVersion;
        if (version) this.resourceVersion = version;
        progressed();
      }
    } finally {
      watch.close();
    }
  }
}
