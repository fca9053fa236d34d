/**
 * The scheduler: informer events in, bindings out, after kube-scheduler's scheduleOne.
 *
 * - Informer events (addPod/updatePod/deletePod, addNode/…, setNamespace) keep the cache (bound and
 *   assumed pods, nodes) and the queue (pods still to schedule) current; events that may make a
 *   rejected pod fit move it back to be tried (the queue decides which, by its rejecting plugins).
 * - The scheduling cycle takes one pod at a time: refresh the snapshot, run the profile's plugins
 *   (schedulePod), then assume the pod on the chosen node in the cache, so the next cycle already
 *   counts it, Reserve and Permit.
 * - The binding cycle runs concurrently (at most `bindConcurrency` at once): Bind through the API;
 *   on failure the pod is forgotten from the cache, its reservations undone, and it is retried.
 * - A pod that fits nowhere may get room through PostFilter (preemption nominates a node); it is
 *   put back in the queue, with a FailedScheduling event and its PodScheduled condition saying why.
 * Only the leader runs cycles (run()); every replica keeps its cache current.
 */
import { formatTime } from '@k8ts/apimachinery';
import { realClock, type Clock } from '@k8ts/base';
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import { SchedulerCache } from '../cache/cache.js';
import { Snapshot } from '../cache/snapshot.js';
import { CycleState } from '../framework/cycle_state.js';
import { podPriority, type ClusterEvent } from '../framework/interfaces.js';
import { podKey } from '../framework/node_info.js';
import { Code, Status } from '../framework/status.js';
import type { QueuedPodInfo } from '../queue/queued_pod_info.js';
import { SchedulingQueue } from '../queue/scheduling_queue.js';
import { Framework, type FrameworkHandleDeps } from '../runtime/framework.js';
import { mergeRegistries, type Registry } from '../runtime/registry.js';
import { FitError, fitErrorOnNode, runPostFilter, SchedulingAlgorithm } from '../runtime/schedule_one.js';
import type { ClusterWriter } from './cluster_writer.js';
import type { SchedulerConfiguration } from './configuration.js';
import { inTreeRegistry } from './in_tree_registry.js';

/** What the scheduler logs through (pino's Logger fits). */
export interface SchedulerLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Hooks for metrics; every method optional in effect (a no-op observer is the default). */
export interface SchedulerObserver {
  schedulingAttempt(result: 'scheduled' | 'unschedulable' | 'error', profile: string, durationMs: number): void;
  /** A pod bound: how many attempts it took and how long since it first entered the queue. */
  podScheduled(attempts: number, sinceFirstAttemptMs: number): void;
  preempted(victims: number): void;
}

export interface PendingPodCounts {
  active: number;
  backoff: number;
  unschedulable: number;
}

export interface SchedulerOptions {
  readonly configuration: SchedulerConfiguration;
  readonly writer: ClusterWriter;
  readonly logger?: SchedulerLogger;
  readonly observer?: SchedulerObserver;
  readonly clock?: Clock;
  /** Uniform in [0, 1): breaks score ties. */
  readonly random?: () => number;
  /** Out-of-tree plugins, merged with the in-tree ones. */
  readonly registry?: Registry;
  /** Binding cycles in flight at most; the scheduling loop waits for a slot beyond. */
  readonly bindConcurrency?: number;
  /** The cache of nodes and bound and assumed pods; a new one on `clock` by default (mutation tests give a broken one). */
  readonly cache?: SchedulerCache;
}

const DEFAULT_BIND_CONCURRENCY = 256;

const SILENT: SchedulerLogger = { debug() {}, info() {}, warn() {}, error() {} };
const NO_OBSERVER: SchedulerObserver = { schedulingAttempt() {}, podScheduled() {}, preempted() {} };

export class Scheduler {
  private readonly writer: ClusterWriter;
  private readonly logger: SchedulerLogger;
  private readonly observer: SchedulerObserver;
  private readonly clock: Clock;
  private readonly profiles = new Map<string, Framework>();
  private readonly cache: SchedulerCache;
  private readonly queue: SchedulingQueue;
  private readonly snapshot = new Snapshot();
  private readonly algorithm: SchedulingAlgorithm;
  private readonly namespaceLabels = new Map<string, Readonly<Record<string, string>>>();
  private readonly bindConcurrency: number;
  private bindingsInFlight = 0;
  private readonly bindingSlotWaiters: Array<() => void> = [];
  private readonly bindings = new Set<Promise<void>>();

  constructor(options: SchedulerOptions) {
    this.writer = options.writer;
    this.logger = options.logger ?? SILENT;
    this.observer = options.observer ?? NO_OBSERVER;
    this.clock = options.clock ?? realClock;
    this.bindConcurrency = options.bindConcurrency ?? DEFAULT_BIND_CONCURRENCY;
    const { configuration } = options;
    this.algorithm = new SchedulingAlgorithm({
      percentageOfNodesToScore: configuration.percentageOfNodesToScore,
      ...(options.random ? { random: options.random } : {}),
    });
    const inTree = inTreeRegistry(this.writer, options.random);
    const registry = options.registry ? mergeRegistries(inTree, options.registry) : inTree;
    // Closures, because the queue is made after the frameworks (it needs their events).
    const deps: FrameworkHandleDeps = {
      snapshot: () => this.snapshot,
      namespaceLabels: (namespace) => this.namespaceLabels.get(namespace),
      evictPod: (victim, preemptor) => this.writer.evictPod(victim, preemptor, victim.spec?.nodeName ?? ''),
      nominatedPodsForNode: (nodeName) => this.queue.nominatedPodsForNode(nodeName),
    };
    const pluginEvents = new Map<string, ClusterEvent[]>();
    for (const profile of configuration.profiles) {
      const framework = new Framework(profile, registry, deps);
      this.profiles.set(profile.schedulerName, framework);
      for (const [plugin, events] of framework.eventsToRegister()) pluginEvents.set(plugin, [...(pluginEvents.get(plugin) ?? []), ...events]);
    }
    this.queue = new SchedulingQueue({
      clock: this.clock,
      pluginEvents,
      podInitialBackoffMs: configuration.podInitialBackoffMs,
      podMaxBackoffMs: configuration.podMaxBackoffMs,
    });
    this.cache = options.cache ?? new SchedulerCache({ clock: this.clock });
  }

  // --- informer events ---

  addPod(pod: Pod): void {
    if (isAssigned(pod)) {
      this.guard('add pod to cache', pod, () => this.cache.addPod(pod));
      this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Pod', action: 'Add' });
    } else if (this.isResponsibleFor(pod) && !isTerminating(pod)) {
      this.queue.add(pod);
    }
  }

  updatePod(oldPod: Pod, newPod: Pod): void {
    if (isAssigned(oldPod)) {
      this.guard('update pod in cache', newPod, () => this.cache.updatePod(oldPod, newPod));
      if (!sameLabels(oldPod, newPod)) this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Pod', action: 'Update' });
    } else if (isAssigned(newPod)) {
      // Just bound (by us or another scheduler): out of the queue, into the cache (confirms an assumed pod).
      this.queue.delete(oldPod);
      this.guard('add pod to cache', newPod, () => this.cache.addPod(newPod));
      this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Pod', action: 'Add' });
      if (oldPod.status?.nominatedNodeName) this.nominationReleased(oldPod);
    } else if (this.isResponsibleFor(newPod)) {
      if (isTerminating(newPod)) this.queue.delete(newPod);
      else this.queue.update(oldPod, newPod);
      const nominated = oldPod.status?.nominatedNodeName;
      const released = newPod.status?.nominatedNodeName !== nominated || (isTerminating(newPod) && !isTerminating(oldPod));
      if (nominated && released) this.nominationReleased(oldPod);
    }
  }

  deletePod(pod: Pod): void {
    if (isAssigned(pod)) {
      this.guard('remove pod from cache', pod, () => this.cache.removePod(pod));
      this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Pod', action: 'Delete' });
    } else {
      this.queue.delete(pod);
      if (pod.status?.nominatedNodeName && this.isResponsibleFor(pod)) this.nominationReleased(pod);
    }
  }

  /**
   * A pending pod gave up the node it was nominated to (bound, nominated elsewhere or nowhere, or
   * gone): the pods of no higher priority it kept out of that node may fit now. Without this they
   * would wait for an unrelated event (upstream fixed the same gap in kubernetes#129058).
   */
  private nominationReleased(pod: Pod): void {
    const priority = podPriority(pod);
    this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Pod', action: 'Delete' }, (waiting) => podPriority(waiting) <= priority);
  }

  addNode(node: Node): void {
    this.guard('add node', node, () => this.cache.addNode(node));
    this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Node', action: 'Add' });
  }

  updateNode(oldNode: Node, newNode: Node): void {
    this.guard('update node', newNode, () => this.cache.updateNode(oldNode, newNode));
    // Heartbeats change nothing a plugin reads: no need to wake rejected pods for them.
    if (schedulingPropertiesChanged(oldNode, newNode)) this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Node', action: 'Update' });
  }

  deleteNode(node: Node): void {
    this.guard('remove node', node, () => this.cache.removeNode(node));
  }

  setNamespace(namespace: Namespace): void {
    const name = namespace.metadata?.name;
    if (name) this.namespaceLabels.set(name, namespace.metadata?.labels ?? {});
  }

  deleteNamespace(namespace: Namespace): void {
    const name = namespace.metadata?.name;
    if (name) this.namespaceLabels.delete(name);
  }

  // --- state for metrics and tests ---

  pendingPods(): PendingPodCounts {
    const pending = this.queue.pendingPods(0);
    return { active: pending.activeQ, backoff: pending.backoffQ, unschedulable: pending.unschedulable };
  }

  nodeCount(): number {
    return this.cache.nodeCount();
  }

  // --- the loop ---

  /** Schedules pods until `signal` aborts or close(); then waits for bindings in flight. */
  async run(signal: AbortSignal): Promise<void> {
    this.queue.run();
    this.cache.run();
    const onAbort = (): void => this.queue.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const info = await this.queue.pop();
        if (info === undefined || signal.aborted) break;
        await this.scheduleOne(info);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      await Promise.allSettled([...this.bindings]);
    }
  }

  close(): void {
    this.queue.close();
    this.cache.close();
  }

  /** Waits until every binding cycle started so far has ended (tests). */
  async settled(): Promise<void> {
    while (this.bindings.size > 0) await Promise.allSettled([...this.bindings]);
  }

  /** One pod's scheduling cycle; its binding cycle continues in the background. */
  async scheduleOne(info: QueuedPodInfo): Promise<void> {
    const pod = info.pod;
    const framework = this.profiles.get(schedulerNameOf(pod));
    if (framework === undefined || isTerminating(pod) || this.cache.isAssumedPod(pod)) {
      this.queue.done(info.key);
      return;
    }
    const startMs = this.clock.now();
    const cycle = this.queue.schedulingCycle();
    this.cache.updateSnapshot(this.snapshot);
    const state = new CycleState();
    let host: string;
    try {
      const result = this.algorithm.schedulePod(framework, state, pod);
      if (result instanceof FitError) {
        await this.handleFitError(framework, state, info, result, cycle, startMs);
        return;
      }
      host = result.suggestedHost;
    } catch (error) {
      this.handleFailure(framework, info, errorStatus(error), undefined, undefined, cycle, startMs);
      return;
    }
    const assumed: Pod = { ...pod, spec: { ...pod.spec!, nodeName: host } };
    try {
      this.cache.assumePod(assumed);
    } catch (error) {
      this.handleFailure(framework, info, errorStatus(error), undefined, undefined, cycle, startMs);
      return;
    }
    // The assumed pod now counts on its node: as a nominee too, it would count twice there.
    this.queue.deleteNominatedPodIfExists(assumed);
    const reserved = framework.runReservePluginsReserve(state, assumed, host);
    const permitted = reserved.isSuccess() ? framework.runPermitPlugins(state, assumed, host).status : reserved;
    if (!permitted.isSuccess()) {
      // No in-tree Permit plugin waits; a Wait from an out-of-tree one is refused rather than held.
      const status = permitted.code === Code.Wait ? Status.error('Permit plugins that wait are not supported') : permitted;
      this.undoAssume(framework, state, assumed, host);
      const fitError = status.isRejected() ? fitErrorOnNode(pod, host, status) : undefined;
      this.handleFailure(framework, info, status, fitError, undefined, cycle, startMs);
      return;
    }
    await this.bindingSlot();
    const binding = this.bindingCycle(framework, state, info, assumed, host, cycle, startMs).finally(() => {
      this.bindings.delete(binding);
      this.releaseBindingSlot();
    });
    this.bindings.add(binding);
  }

  private async bindingCycle(framework: Framework, state: CycleState, info: QueuedPodInfo, assumed: Pod, host: string, cycle: number, startMs: number): Promise<void> {
    const status = await framework.runBindPlugins(state, assumed, host);
    if (!status.isSuccess()) {
      this.undoAssume(framework, state, assumed, host);
      // The room the pod held is free again: pods waiting for room may fit now.
      this.queue.moveAllToActiveOrBackoffQueue({ resource: 'Pod', action: 'Delete' });
      this.handleFailure(framework, info, status, undefined, undefined, cycle, startMs);
      return;
    }
    this.guard('finish binding', assumed, () => this.cache.finishBinding(assumed));
    const now = this.clock.now();
    this.observer.schedulingAttempt('scheduled', framework.profileName, now - startMs);
    this.observer.podScheduled(info.attempts, now - (info.initialAttemptTimestamp ?? startMs));
    this.writer.recordEvent(assumed, 'Normal', 'Scheduled', 'Binding', `Successfully assigned ${podKey(assumed)} to ${host}`);
    this.queue.done(info.key);
  }

  private async handleFitError(framework: Framework, state: CycleState, info: QueuedPodInfo, fitError: FitError, cycle: number, startMs: number): Promise<void> {
    let nominatedNodeName: string | undefined;
    if (framework.hasPostFilterPlugins()) {
      const outcome = await runPostFilter(framework, state, info.pod, fitError);
      nominatedNodeName = outcome.result?.nominatedNodeName;
      if (nominatedNodeName) this.logger.info({ pod: info.key, node: nominatedNodeName }, 'preempting to make room');
    }
    this.handleFailure(framework, info, Status.unschedulable(), fitError, nominatedNodeName, cycle, startMs);
  }

  /**
   * A failed attempt: back to the queue (unschedulable, or backoff for errors), the nomination kept
   * in memory, a FailedScheduling event and the PodScheduled condition. `nominatedNodeName` '' clears
   * the pod's nomination; undefined leaves it.
   */
  private handleFailure(
    framework: Framework,
    info: QueuedPodInfo,
    status: Status,
    fitError: FitError | undefined,
    nominatedNodeName: string | undefined,
    cycle: number,
    startMs: number,
  ): void {
    const rejected = fitError !== undefined;
    this.observer.schedulingAttempt(rejected ? 'unschedulable' : 'error', framework.profileName, this.clock.now() - startMs);
    const pod = info.pod;
    const outcome = rejected ? this.queue.addUnschedulableIfNotPresent(info, fitError.diagnosis.unschedulablePlugins, cycle) : this.queue.requeueAfterError(info, cycle);
    if (outcome === 'deleted') return;
    // '' (preemption found no room) drops the nomination now, as upstream, not when the API write
    // comes back: until then it would keep holding room against lower-priority pods.
    if (nominatedNodeName !== undefined) this.queue.addNominatedPod(info.podInfo, nominatedNodeName);
    const message = fitError?.message() ?? status.message();
    if (!rejected) this.logger.warn({ pod: info.key, error: message }, 'error scheduling pod; retrying');
    this.writer.recordEvent(pod, 'Warning', 'FailedScheduling', 'Scheduling', message);
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      reason: rejected ? 'Unschedulable' : 'SchedulerError',
      message,
      lastTransitionTime: formatTime(this.clock.now()),
    };
    this.writer.updatePodSchedulingStatus(pod, condition, nominatedNodeName === '' ? null : nominatedNodeName).catch((error: unknown) => {
      this.logger.debug({ pod: info.key, err: error }, 'could not update the PodScheduled condition');
    });
  }

  private undoAssume(framework: Framework, state: CycleState, assumed: Pod, host: string): void {
    framework.runReservePluginsUnreserve(state, assumed, host);
    this.guard('forget pod', assumed, () => this.cache.forgetPod(assumed));
  }

  private async bindingSlot(): Promise<void> {
    while (this.bindingsInFlight >= this.bindConcurrency) await new Promise<void>((resume) => this.bindingSlotWaiters.push(resume));
    this.bindingsInFlight++;
  }

  private releaseBindingSlot(): void {
    this.bindingsInFlight--;
    this.bindingSlotWaiters.shift()?.();
  }

  private isResponsibleFor(pod: Pod): boolean {
    return this.profiles.has(schedulerNameOf(pod));
  }

  /** Cache calls throw on inconsistent events (upstream logs them); one bad event must not stop the rest. */
  private guard(action: string, object: Pod | Node, work: () => unknown): void {
    try {
      work();
    } catch (error) {
      this.logger.error({ action, object: object.metadata?.name, err: error }, 'scheduler cache refused an event');
    }
  }
}

function schedulerNameOf(pod: Pod): string {
  return pod.spec?.schedulerName ?? 'default-scheduler';
}

function isAssigned(pod: Pod): boolean {
  return (pod.spec?.nodeName ?? '') !== '';
}

function isTerminating(pod: Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined;
}

function sameLabels(a: Pod, b: Pod): boolean {
  return JSON.stringify(a.metadata?.labels ?? {}) === JSON.stringify(b.metadata?.labels ?? {});
}

/** What plugins read of a node: labels, taints, unschedulable, allocatable. */
function schedulingPropertiesChanged(a: Node, b: Node): boolean {
  const view = (node: Node): string =>
    JSON.stringify([node.metadata?.labels ?? {}, node.spec?.taints ?? [], node.spec?.unschedulable ?? false, node.status?.allocatable ?? {}]);
  return view(a) !== view(b);
}

function errorStatus(error: unknown): Status {
  if (error instanceof Error && 'status' in error && error.status instanceof Status) return error.status;
  return Status.error(error instanceof Error ? error.message : String(error));
}
