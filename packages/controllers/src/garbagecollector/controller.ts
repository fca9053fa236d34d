import type { KubeObject, RateLimitingQueue } from '@k8ts/client';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { runWorkers } from '../framework/run_workers.js';
import { Collector, objectOf } from './collector.js';
import { DependencyGraph } from './graph.js';
import { describeIdentity, identityOfReference } from './identity.js';
import { ClientObjectApi, type ObjectApi } from './object_api.js';
import { deletableResources, typeIdentity } from './resources.js';

/** The component name its events carry, as upstream's. */
export const GC_COMPONENT = 'garbage-collector-controller';

/**
 * kube-controller-manager's garbage collector: informers over every deletable resource feed the
 * dependency graph; the graph queues uids to attemptToDelete (owners to verify, dependents whose
 * owners may be gone, owners waiting in foreground) and to attemptToOrphan; `workers` workers
 * (--concurrent-gc-syncs) drain each queue through the Collector.
 */
export class GarbageCollectorController implements Controller {
  readonly graph: DependencyGraph;
  private readonly attemptToDelete: RateLimitingQueue<string>;
  private readonly attemptToOrphan: RateLimitingQueue<string>;
  private readonly collector: Collector;

  constructor(
    private readonly context: ControllerContext,
    private readonly workers: number,
    api: ObjectApi = new ClientObjectApi(context.client),
  ) {
    this.attemptToDelete = context.newQueue('garbage_collector_attempt_to_delete');
    this.attemptToOrphan = context.newQueue('garbage_collector_attempt_to_orphan');
    const recorder = context.recorder(GC_COMPONENT);
    this.graph = new DependencyGraph(
      {
        attemptToDelete: (uid) => void this.attemptToDelete.add(uid),
        attemptToOrphan: (uid) => void this.attemptToOrphan.add(uid),
        invalidNamespaceOwnerRef: (dependent, reference) =>
          recorder.event(
            objectOf(dependent),
            'Warning',
            'OwnerRefInvalidNamespace',
            `ownerRef ${describeIdentity(identityOfReference(reference, dependent.namespace))} does not exist in namespace "${dependent.namespace}"`,
          ),
      },
      (apiVersion, kind) => api.scopeOf(apiVersion, kind),
    );
    this.collector = new Collector(this.graph, api, (uid) => void this.attemptToDelete.add(uid), recorder, context.logger.child({ controller: 'garbagecollector' }));
    for (const type of deletableResources()) {
      const identity = typeIdentity(type);
      context.informers.informerFor<KubeObject>(type.group, type.version, type.resource).addEventHandler({
        onAdd: (object) => this.graph.observe(identity, object),
        onUpdate: (old, object) => this.graph.observe(identity, object, old),
        onDelete: (object) => this.graph.observeDelete(identity, object),
      });
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    const { informers, logger } = this.context;
    await Promise.all([
      runWorkers({ informers, queue: this.attemptToDelete, workers: this.workers, sync: (uid) => this.collector.attemptToDelete(uid), signal, logger }),
      runWorkers({ informers, queue: this.attemptToOrphan, workers: this.workers, sync: (uid) => this.collector.attemptToOrphan(uid), signal, logger }),
    ]);
  }
}
