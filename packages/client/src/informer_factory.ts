import type { Logger } from 'pino';
import type { ApiClient } from './api_client.js';
import type { Clock } from '@k8ts/base';
import type { IndexFunc } from './indexer.js';
import type { KubeObject } from './resource_client.js';
import { SharedInformer } from './shared_informer.js';

export interface InformerFactoryOptions {
  /** Resync period of every informer (0: none). */
  readonly resyncPeriodMs?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

export interface InformerRequest<T> {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Indexes to add; an informer asked for twice gets the union (same name, same function). */
  readonly indexers?: Readonly<Record<string, IndexFunc<T>>>;
}

/**
 * One SharedInformer per resource (and selectors) for a whole process, client-go's
 * SharedInformerFactory: every controller asking for pods shares one list+watch and one cache.
 * Ask for informers first, then `start()`; informers asked for later start at once.
 */
export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedInformer<KubeObject>>();
  private started = false;

  constructor(
    private readonly client: ApiClient,
    private readonly options: InformerFactoryOptions = {},
  ) {}

  informerFor<T extends KubeObject>(group: string, version: string, resource: string, request: InformerRequest<T> = {}): SharedInformer<T> {
    const key = JSON.stringify([group, version, resource, request.labelSelector ?? '', request.fieldSelector ?? '']);
    let informer = this.informers.get(key) as SharedInformer<T> | undefined;
    if (informer === undefined) {
      informer = new SharedInformer<T>(this.client.resource<T>(group, version, resource), {
        ...this.options,
        ...(request.labelSelector ? { labelSelector: request.labelSelector } : {}),
        ...(request.fieldSelector ? { fieldSelector: request.fieldSelector } : {}),
      });
      this.informers.set(key, informer as unknown as SharedInformer<KubeObject>);
      if (this.started) informer.run();
    }
    const missing = Object.entries(request.indexers ?? {}).filter(([name]) => !informer.indexer.hasIndex(name));
    if (missing.length > 0) informer.indexer.addIndexers(Object.fromEntries(missing));
    return informer;
  }

  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) informer.run();
  }

  /** Resolves true when every informer has synced, false if one was stopped first. */
  async waitForCacheSync(): Promise<boolean> {
    const results = await Promise.all([...this.informers.values()].map((informer) => informer.waitForSync()));
    return results.every(Boolean);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((informer) => informer.stop()));
  }
}
