/**
 * The node lifecycle controller (upstream pkg/controller/nodelifecycle, 1.32, taint-based
 * eviction). Four loops share its memory of nodes:
 * - every --node-monitor-period, `monitorNodeHealth` reads each node and its Lease in
 *   kube-node-lease: an unheard node gets Unknown conditions; a node whose Ready was False or
 *   Unknown is queued in its zone's tainting queue; a Ready node loses its NoExecute taints; pods on
 *   a node that just stopped being Ready are marked not Ready; zone states set the tainting rates;
 * - every 100 ms, `doNoExecuteTaintingPass` taints the queued nodes (not-ready or unreachable,
 *   NoExecute) at each zone's rate — the taint eviction controller then evicts their pods;
 * - on every node change, the NoSchedule taints that mirror its conditions (TaintNodesByCondition);
 * - on every pod bound to a node that is not Ready, the pod's Ready condition goes False.
 * All it remembers (probe times, the tainting queues, zone states) is rebuilt from the API on a
 * restart; the taints it wrote are the durable state, and a taint already present is never
 * re-stamped, so pods' tolerationSeconds run from the first taint through failovers.
 */
import { ignoreNotFound, isNotFound, type Lister, type RateLimitingQueue, type ResourceClient, type EventRecorder } from '@k8ts/client';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition, Pod } from 'kubernetes-types/core/v1.js';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { nodeCondition } from '../framework/nodes.js';
import { notReadyStatus } from '../framework/pod_conditions.js';
import { POD_NODE_NAME_INDEX, podNodeNameIndex } from '../framework/pods_by_node.js';
import { forEachConcurrently, repeatUntilAborted } from '../framework/repeat.js';
import { runWorkers } from '../framework/run_workers.js';
import { observeNodeHealth, type HealthObservation, type NodeHealth } from './node_health.js';
import { updateNodeTaints } from './node_writes.js';
import { hasTaint, noScheduleTaintChanges, NOT_READY_NO_EXECUTE, swapTaints, UNREACHABLE_NO_EXECUTE } from './taints.js';
import { RateLimitedTimedQueue, type TryResult } from './timed_queue.js';
import { EXCLUDE_DISRUPTION_LABEL, planDisruption, zoneKey, type ReadyStatuses, type ZoneState } from './zones.js';

/** How often queued nodes are tainted (upstream scheduler.NodeEvictionPeriod). */
export const NODE_EVICTION_PERIOD_MS = 100;
/** Nodes checked at once in a monitor pass, and workers of the NoSchedule pass (upstream 8). */
const NODE_UPDATE_WORKERS = 8;
/** Workers marking pods not Ready (upstream 4). */
const POD_UPDATE_WORKERS = 4;
/** Status writes of one node in one pass before it is skipped until the next (upstream NodeHealthUpdateRetry). */
const NODE_HEALTH_UPDATE_ATTEMPTS = 5;
const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const NODE_CONTROLLER_COMPONENT = 'node-controller';

export class NodeLifecycleController implements Controller {
  private readonly nodeLister: Lister<Node>;
  private readonly leaseLister: Lister<Lease>;
  private readonly podIndexer;
  private readonly podLister: Lister<Pod>;
  private readonly nodes: ResourceClient<Node>;
  private readonly pods: ResourceClient<Pod>;
  private readonly recorder: EventRecorder;
  /** Node names whose NoSchedule condition taints are to be reconciled. */
  private readonly nodeQueue: RateLimitingQueue<string>;
  /** Pods (namespace/name) just bound to a node, to mark not Ready if the node is not. */
  private readonly podQueue: RateLimitingQueue<string>;
  private readonly knownNodes = new Set<string>();
  private readonly health = new Map<string, NodeHealth>();
  private readonly tainters = new Map<string, RateLimitedTimedQueue>();
  private zoneStates = new Map<string, ZoneState>();
  /** Nodes whose pods could not all be marked not Ready: tried again next pass. */
  private readonly nodesToRetry = new Set<string>();

  constructor(private readonly context: ControllerContext) {
    const { informers } = context;
    const nodeInformer = informers.informerFor<Node>('', 'v1', 'nodes');
    const podInformer = informers.informerFor<Pod>('', 'v1', 'pods', { indexers: { [POD_NODE_NAME_INDEX]: podNodeNameIndex } });
    this.nodeLister = nodeInformer.lister();
    this.leaseLister = informers.informerFor<Lease>('coordination.k8s.io', 'v1', 'leases').lister();
    this.podLister = podInformer.lister();
    this.podIndexer = podInformer.indexer;
    this.nodes = context.client.resource<Node>('', 'v1', 'nodes');
    this.pods = context.client.resource<Pod>('', 'v1', 'pods');
    this.recorder = context.recorder(NODE_CONTROLLER_COMPONENT);
    this.nodeQueue = context.newQueue('node_lifecycle_controller');
    this.podQueue = context.newQueue('node_lifecycle_controller_pods');
    nodeInformer.addEventHandler({
      onAdd: (node) => this.nodeQueue.add(node.metadata?.name ?? ''),
      onUpdate: (_, node) => this.nodeQueue.add(node.metadata?.name ?? ''),
      onDelete: (node) => this.nodesToRetry.delete(node.metadata?.name ?? ''),
    });
    podInformer.addEventHandler({
      onAdd: (pod) => this.podBound(undefined, pod),
      onUpdate: (old, pod) => this.podBound(old, pod),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    const { informers, clock, logger, options } = this.context;
    if (!(await informers.waitForCacheSync())) return;
    await Promise.all([
      runWorkers({ informers, queue: this.nodeQueue, workers: NODE_UPDATE_WORKERS, sync: (name) => this.syncNoScheduleTaints(name), signal, logger }),
      runWorkers({ informers, queue: this.podQueue, workers: POD_UPDATE_WORKERS, sync: (key) => this.syncPod(key), signal, logger }),
      repeatUntilAborted(clock, NODE_EVICTION_PERIOD_MS, signal, logger, 'no-execute-tainting', () => this.doNoExecuteTaintingPass()),
      repeatUntilAborted(clock, options.nodeMonitorPeriodMs, signal, logger, 'monitor-node-health', () => this.monitorNodeHealth()),
    ]);
  }

  private podBound(old: Pod | undefined, pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (nodeName && nodeName !== old?.spec?.nodeName) this.podQueue.add(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
  }

  /** TaintNodesByCondition: the node's NoSchedule taints follow its conditions and spec.unschedulable. */
  private async syncNoScheduleTaints(name: string): Promise<void> {
    const node = this.nodeLister.get(name);
    if (node === undefined) return;
    const { add, remove } = noScheduleTaintChanges(node);
    if (add.length === 0 && remove.length === 0) return;
    const now = this.context.clock.now();
    await updateNodeTaints(this.nodes, node, (current) => {
      const changes = noScheduleTaintChanges(current);
      return swapTaints(current.spec?.taints, changes.add, changes.remove, now);
    });
  }

  /** A pod bound to a node that is not Ready is marked not Ready (upstream processPod). */
  private async syncPod(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const pod = this.podLister.get(name, namespace);
    const nodeName = pod?.spec?.nodeName;
    if (pod === undefined || !nodeName || !this.health.has(nodeName)) return;
    const node = this.nodeLister.get(nodeName);
    const ready = node === undefined ? undefined : nodeCondition(node, 'Ready');
    if (ready === undefined || ready.status === 'True') return;
    await this.markPodsNotReady([pod], nodeName);
  }

  private async monitorNodeHealth(): Promise<void> {
    const nodes = this.nodeLister.list();
    const names = new Set(nodes.map((node) => node.metadata?.name ?? ''));
    for (const node of nodes) {
      const name = node.metadata?.name ?? '';
      if (this.knownNodes.has(name)) continue;
      // A new node (or every node, after a restart): no taint is removed here — its first health
      // check decides, so a restart keeps the taints (and their timeAdded) of nodes still down.
      this.knownNodes.add(name);
      this.tainter(zoneKey(node));
      this.recorder.event(node, 'Normal', 'RegisteredNode', `Registered Node ${name} in Controller`);
    }
    for (const name of [...this.knownNodes]) {
      if (names.has(name)) continue;
      this.knownNodes.delete(name);
      this.health.delete(name);
      this.nodesToRetry.delete(name);
      this.recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name } }, 'Normal', 'RemovingNode', `Removing Node ${name} from Controller`);
    }
    const zones = new Map<string, (string | undefined)[]>();
    await forEachConcurrently(nodes, NODE_UPDATE_WORKERS, async (node) => {
      try {
        await this.monitorNode(node, zones);
      } catch (error) {
        this.context.logger.warn({ err: error, node: node.metadata?.name }, 'node health check failed; next pass retries');
      }
    });
    await this.handleDisruption(zones, nodes);
  }

  private async monitorNode(cached: Node, zones: Map<string, (string | undefined)[]>): Promise<void> {
    const checked = await this.updateNodeHealth(cached);
    if (checked === undefined) return;
    const { node, observation } = checked;
    const name = node.metadata?.name ?? '';
    if (node.metadata?.labels?.[EXCLUDE_DISRUPTION_LABEL] === undefined) {
      const zone = zoneKey(node);
      zones.set(zone, [...(zones.get(zone) ?? []), observation.currentReady?.status]);
    }
    const { observedReady, currentReady } = observation;
    if (currentReady !== undefined) {
      await this.processTaintBasedEviction(node, observedReady);
      const becameNotReady = currentReady.status !== 'True' && observedReady.status === 'True';
      if (becameNotReady) this.recorder.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      if (becameNotReady || (this.nodesToRetry.has(name) && observedReady.status !== 'True')) {
        const pods = this.podIndexer.byIndex(POD_NODE_NAME_INDEX, name);
        try {
          await this.markPodsNotReady(pods, name);
        } catch (error) {
          this.nodesToRetry.add(name);
          this.context.logger.warn({ err: error, node: name }, 'could not mark all pods not ready; next pass retries');
          return;
        }
      }
    }
    this.nodesToRetry.delete(name);
  }

  /**
   * Checks the node's health and writes Unknown conditions when it is unheard; on a conflict, reads
   * the node again and decides again. Undefined: the node is gone or could not be written.
   */
  private async updateNodeHealth(cached: Node): Promise<{ node: Node; observation: HealthObservation } | undefined> {
    const { clock, options, logger } = this.context;
    const name = cached.metadata?.name ?? '';
    let node = cached;
    for (let attempt = 1; ; attempt++) {
      const lease = this.leaseLister.get(name, NODE_LEASE_NAMESPACE);
      const observation = observeNodeHealth(this.health.get(name), node, lease, clock.now(), {
        monitorMs: options.nodeMonitorGracePeriodMs,
        startupMs: options.nodeStartupGracePeriodMs,
      });
      this.health.set(name, observation.health);
      const update = observation.statusUpdate;
      if (update === undefined) return { node, observation };
      try {
        const written = await this.nodes.updateStatus({ ...node, status: { ...node.status, conditions: update.conditions } });
        this.health.set(name, update.health);
        logger.info({ node: name, ready: update.conditions.find((c) => c.type === 'Ready')?.status }, 'node unheard: conditions set to Unknown');
        return { node: written, observation };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        if (attempt >= NODE_HEALTH_UPDATE_ATTEMPTS) throw error;
      }
      const fresh = await ignoreNotFound(this.nodes.get(name));
      if (fresh === undefined) return undefined;
      node = fresh;
    }
  }

  /** Queues a not-Ready node for its NoExecute taint, swaps one taint for the other at once, or untaints a Ready node. */
  private async processTaintBasedEviction(node: Node, observedReady: NodeCondition): Promise<void> {
    const taints = node.spec?.taints;
    const now = this.context.clock.now();
    switch (observedReady.status) {
      case 'False':
        if (hasTaint(taints, UNREACHABLE_NO_EXECUTE)) {
          await updateNodeTaints(this.nodes, node, (n) => swapTaints(n.spec?.taints, [NOT_READY_NO_EXECUTE], [UNREACHABLE_NO_EXECUTE], now));
        } else this.markNodeForTainting(node, NOT_READY_NO_EXECUTE);
        return;
      case 'Unknown':
        if (hasTaint(taints, NOT_READY_NO_EXECUTE)) {
          await updateNodeTaints(this.nodes, node, (n) => swapTaints(n.spec?.taints, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE], now));
        } else this.markNodeForTainting(node, UNREACHABLE_NO_EXECUTE);
        return;
      case 'True':
        await this.markNodeAsReachable(node);
        return;
    }
  }

  private markNodeForTainting(node: Node, taint: typeof NOT_READY_NO_EXECUTE): void {
    const name = node.metadata?.name ?? '';
    const tainter = this.tainter(zoneKey(node));
    // Remembered from an earlier outage but not tainted now: queue it again.
    if (!hasTaint(node.spec?.taints, taint)) tainter.remove(name);
    tainter.add(name, node.metadata?.uid ?? '');
  }

  private async markNodeAsReachable(node: Node): Promise<void> {
    const now = this.context.clock.now();
    await updateNodeTaints(this.nodes, node, (n) => swapTaints(n.spec?.taints, [], [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE], now));
    this.tainter(zoneKey(node)).remove(node.metadata?.name ?? '');
  }

  private async doNoExecuteTaintingPass(): Promise<void> {
    for (const tainter of this.tainters.values()) await tainter.try((item) => this.taintNode(item.value));
  }

  private async taintNode(name: string): Promise<TryResult> {
    const node = this.nodeLister.get(name);
    if (node === undefined) return { done: true };
    const ready = nodeCondition(node, 'Ready');
    if (ready === undefined) return { done: false, retryAfterMs: 50 };
    // not-ready and unreachable mirror the Ready condition, so they exclude each other.
    let add = UNREACHABLE_NO_EXECUTE;
    let opposite = NOT_READY_NO_EXECUTE;
    if (ready.status === 'False') [add, opposite] = [NOT_READY_NO_EXECUTE, UNREACHABLE_NO_EXECUTE];
    else if (ready.status !== 'Unknown') return { done: true }; // Ready again: nothing to taint
    const now = this.context.clock.now();
    try {
      await updateNodeTaints(this.nodes, node, (n) => swapTaints(n.spec?.taints, [add], [opposite], now));
      this.context.logger.info({ node: name, taint: add.key }, 'node tainted NoExecute');
      return { done: true };
    } catch (error) {
      this.context.logger.warn({ err: error, node: name }, 'tainting failed; retried');
      return { done: false, retryAfterMs: 0 };
    }
  }

  private async handleDisruption(zones: ReadonlyMap<string, ReadyStatuses>, nodes: readonly Node[]): Promise<void> {
    const { options, logger, clock } = this.context;
    const plan = planDisruption(this.zoneStates, zones, options);
    if (plan.enteringFullDisruption) {
      logger.info({ event: 'master-disruption' }, 'every node is not ready: entering master disruption mode, NoExecute taints removed, evictions stopped');
      await forEachConcurrently(nodes, NODE_UPDATE_WORKERS, (node) =>
        this.markNodeAsReachable(node).catch((error: unknown) => logger.warn({ err: error, node: node.metadata?.name }, 'could not remove taints')),
      );
    }
    if (plan.exitingFullDisruption) {
      logger.info({ event: 'master-disruption-over' }, 'some nodes are ready: exiting master disruption mode');
      const now = clock.now();
      for (const [name, health] of this.health) this.health.set(name, { ...health, probeMs: now, readyTransitionMs: now });
    }
    for (const [zone, qps] of plan.rates) this.tainter(zone).swapLimiter(qps);
    for (const [zone, state] of plan.zoneStates) {
      if (this.zoneStates.get(zone) !== state) logger.info({ zone, state }, 'zone state changed');
    }
    this.zoneStates = plan.zoneStates;
  }

  private tainter(zone: string): RateLimitedTimedQueue {
    let tainter = this.tainters.get(zone);
    if (tainter === undefined) {
      tainter = new RateLimitedTimedQueue(this.context.clock, this.context.options.nodeEvictionRate);
      this.tainters.set(zone, tainter);
    }
    return tainter;
  }

  /** Sets each pod's Ready condition False (and a NodeNotReady event); throws when some could not be written. */
  private async markPodsNotReady(pods: readonly Pod[], nodeName: string): Promise<void> {
    const failures: unknown[] = [];
    for (const pod of pods) {
      if (pod.spec?.nodeName !== nodeName) continue;
      const status = notReadyStatus(pod, this.context.clock.now());
      if (status === undefined) continue;
      try {
        await this.pods.updateStatus({ ...pod, status });
        this.recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (error) {
        if (!isNotFound(error)) failures.push(error);
      }
    }
    if (failures.length > 0) throw new Error(`${failures.length} pod(s) on node ${nodeName} not marked not ready: ${(failures[0] as Error).message}`);
  }
}
