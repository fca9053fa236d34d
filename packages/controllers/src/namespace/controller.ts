import type { KubeObject, Lister, RateLimitingQueue } from '@k8ts/client';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { runWorkers } from '../framework/run_workers.js';
import { NamespacedResourcesDeleter, ResourcesRemainingError } from './deleter.js';

/**
 * Upstream's namespaceDeletionGracePeriod: a namespace marked for deletion is looked at 5 s later,
 * so API servers behind a load balancer all see it terminating (and refuse new content) first.
 */
export const NAMESPACE_DELETION_GRACE_PERIOD_MS = 5_000;

type NamespaceObject = Namespace & KubeObject;

/**
 * The namespace controller (kube-controller-manager's pkg/controller/namespace): a namespace with
 * a deletionTimestamp is emptied, then released by removing its `kubernetes` finalizer. Handlers
 * only enqueue terminating namespaces; `sync` runs the NamespacedResourcesDeleter, which reads
 * everything live. Content still going (graceful pod deletion, finalizers) brings the namespace
 * back after half the estimate plus a second, as upstream.
 */
export class NamespaceController implements Controller {
  private readonly queue: RateLimitingQueue<string>;
  private readonly namespaces: Lister<NamespaceObject>;
  private readonly deleter: NamespacedResourcesDeleter;
  private readonly logger: Logger;

  constructor(
    private readonly context: ControllerContext,
    private readonly workers: number,
  ) {
    this.logger = context.logger.child({ controller: 'namespace' });
    this.queue = context.newQueue('namespace');
    this.deleter = new NamespacedResourcesDeleter(context.client, context.clock, this.logger);
    const informer = context.informers.informerFor<NamespaceObject>('', 'v1', 'namespaces');
    this.namespaces = informer.lister();
    informer.addEventHandler({
      onAdd: (namespace) => this.enqueue(namespace),
      onUpdate: (_old, namespace) => this.enqueue(namespace),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({ informers: this.context.informers, queue: this.queue, workers: this.workers, sync: (key) => this.sync(key), signal, logger: this.logger });
  }

  async sync(key: string): Promise<void> {
    const namespace = this.namespaces.get(key);
    if (namespace === undefined) return;
    try {
      await this.deleter.delete(key);
    } catch (error) {
      if (!(error instanceof ResourcesRemainingError)) throw error;
      const waitSeconds = Math.floor(error.estimateSeconds / 2) + 1;
      this.logger.debug({ namespace: key, waitSeconds }, 'content remaining in namespace');
      this.queue.addAfter(key, waitSeconds * 1000);
    }
  }

  private enqueue(namespace: NamespaceObject): void {
    if (namespace.metadata?.deletionTimestamp === undefined || namespace.metadata.deletionTimestamp === null) return;
    this.queue.addAfter(namespace.metadata.name as string, NAMESPACE_DELETION_GRACE_PERIOD_MS);
  }
}
