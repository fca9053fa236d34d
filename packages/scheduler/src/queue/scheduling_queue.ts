/**
 * The scheduling queue, after kube-scheduler's PriorityQueue. A pending pod is in exactly one of:
 *   activeQ        ready to be tried; highest priority first, then the earliest added.
 *   backoffQ       failed recently; waits out a backoff that doubles with each attempt.
 *   unschedulable  rejected by plugins; waits for a cluster event one of those plugins registered,
 *                  or for podMaxInUnschedulablePodsDurationMs, whichever comes first.
 * or is in flight: popped and being scheduled. An event that arrives while a pod is in flight would be
 * lost if the pod then failed and waited in unschedulable for the next one, so a pod that fails in a
 * cycle during which a move request came goes to backoffQ instead (the moveRequestCycle rule).
 *
 * Upstream's queueing hints, PreEnqueue gating and pod groups are not modelled here.
 */
import { every, realClock, type Clock } from '@k8ts/base';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ClusterEvent } from '../framework/interfaces.js';
import { podPriority } from '../framework/interfaces.js';
import { podInfoFor, podKey, type PodInfo } from '../framework/node_info.js';
import { backoffDurationMs } from './backoff.js';
import { eventMayHelp, type PluginEvents } from './events.js';
import { KeyedHeap } from './heap.js';
import { Nominator } from './nominator.js';
import { isPodUpdated } from './pod_updated.js';
import { QueuedPodInfo } from './queued_pod_info.js';

export const DEFAULT_POD_INITIAL_BACKOFF_MS = 1_000;
export const DEFAULT_POD_MAX_BACKOFF_MS = 10_000;
export const DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS = 5 * 60_000;
/** How often run() moves pods whose backoff ended, and flushes unschedulable leftovers (kube: 1 s, 30 s). */
export const BACKOFF_FLUSH_PERIOD_MS = 1_000;
export const UNSCHEDULABLE_FLUSH_PERIOD_MS = 30_000;

export interface SchedulingQueueOptions {
  clock?: Clock;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  podMaxInUnschedulablePodsDurationMs?: number;
  /** Plugin name → events that can undo its rejections (from EnqueueExtensions). */
  pluginEvents?: PluginEvents;
}

export type QueueName = 'activeQ' | 'backoffQ' | 'unschedulable';

/** Where addUnschedulableIfNotPresent put the pod; 'alreadyQueued' and 'deleted' mean nowhere. */
export type RequeueOutcome = QueueName | 'alreadyQueued' | 'deleted';

export interface PendingPods {
  pods: Pod[];
  activeQ: number;
  backoffQ: number;
  unschedulable: number;
  inFlight: number;
  /** "activeQ:1; backoffQ:0; unschedulablePods:2", as upstream's PendingPods summary. */
  summary: string;
}

/** A popped pod, with what happened to it while it was being scheduled. */
interface InFlight {
  info: QueuedPodInfo;
  deleted: boolean;
  updatedPod: Pod | undefined;
}

export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxInUnschedulableMs: number;
  private readonly pluginEvents: PluginEvents;

  private readonly activeQ = new KeyedHeap<QueuedPodInfo>((info) => info.key, activeBefore);
  private readonly backoffQ = new KeyedHeap<QueuedPodInfo>(
    (info) => info.key,
    (a, b) => this.backoffBefore(a, b),
  );
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly nominator = new Nominator();

  private cycle = 0;
  /** The scheduling cycle current when the last move request came; -1 = none yet. */
  private moveRequestCycle = -1;
  private readonly waiters: Array<(info: QueuedPodInfo | undefined) => void> = [];
  private closed = false;
  private stopTimers: Array<() => void> = [];

  constructor(options: SchedulingQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.initialBackoffMs = options.podInitialBackoffMs ?? DEFAULT_POD_INITIAL_BACKOFF_MS;
    this.maxBackoffMs = options.podMaxBackoffMs ?? DEFAULT_POD_MAX_BACKOFF_MS;
    this.maxInUnschedulableMs = options.podMaxInUnschedulablePodsDurationMs ?? DEFAULT_POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS;
    this.pluginEvents = options.pluginEvents ?? new Map();
  }

  /** Starts the periodic flushes of backoffQ and of unschedulable leftovers. */
  run(): void {
    if (this.closed || this.stopTimers.length > 0) return;
    this.stopTimers = [
      every(this.clock, BACKOFF_FLUSH_PERIOD_MS, () => this.flushBackoffQCompleted()),
      every(this.clock, UNSCHEDULABLE_FLUSH_PERIOD_MS, () => this.flushUnschedulablePodsLeftover()),
    ];
  }

  /** Stops the timers; pending and later pop() calls resolve undefined. */
  close(): void {
    this.closed = true;
    for (const stop of this.stopTimers) stop();
    this.stopTimers = [];
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  /** The number of pods popped so far; a pod's cycle is this value right after its pop. */
  schedulingCycle(): number {
    return this.cycle;
  }

  // --- informer events for pods not yet bound ---

  /** A new pending pod: straight to activeQ. */
  add(pod: Pod): void {
    const info = new QueuedPodInfo(pod, this.clock.now());
    this.moveToActive(info);
    this.nominator.add(info.podInfo);
    this.wake();
  }

  update(oldPod: Pod, newPod: Pod): void {
    const key = podKey(oldPod);
    const flying = this.inFlight.get(key);
    if (flying !== undefined) {
      // Applied when the pod comes back; a failed attempt then retries after backoff.
      flying.updatedPod = newPod;
    } else if (!this.updateQueued(key, oldPod, newPod)) {
      this.moveToActive(new QueuedPodInfo(newPod, this.clock.now()));
    }
    this.nominator.update(oldPod, this.findInfo(key)?.podInfo ?? podInfoFor(newPod));
    this.wake();
  }

  delete(pod: Pod): void {
    const key = podKey(pod);
    this.nominator.delete(pod);
    this.activeQ.delete(key);
    this.backoffQ.delete(key);
    this.unschedulable.delete(key);
    const flying = this.inFlight.get(key);
    if (flying !== undefined) flying.deleted = true;
  }

  // --- the scheduling loop's side ---

  /** The next pod to schedule; waits until one is active. Resolves undefined once closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const info = this.tryPop();
    if (info !== undefined) return Promise.resolve(info);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The next active pod, or undefined if none is active now. */
  tryPop(): QueuedPodInfo | undefined {
    if (this.closed) return undefined;
    const info = this.activeQ.pop();
    if (info === undefined) return undefined;
    info.attempts++;
    info.unschedulablePlugins = new Set();
    this.cycle++;
    this.inFlight.set(info.key, { info, deleted: false, updatedPod: undefined });
    return info;
  }

  /**
   * Puts back a pod whose attempt failed. `rejectorPlugins` are the plugins that found it
   * unschedulable (empty for an error); `podSchedulingCycle` is schedulingCycle() right after its pop.
   * The pod goes to backoffQ when it failed with an error, changed while in flight, or a move request
   * came during or after its cycle; otherwise to unschedulable. Ends its in-flight record (as done()).
   * Its nomination is reset from status.nominatedNodeName: call addNominatedPod after with what
   * preemption chose.
   */
  addUnschedulableIfNotPresent(info: QueuedPodInfo, rejectorPlugins: ReadonlySet<string>, podSchedulingCycle: number): RequeueOutcome {
    const key = info.key;
    const flying = this.inFlight.get(key);
    this.inFlight.delete(key);
    if (flying?.deleted) return 'deleted';
    if (this.activeQ.has(key) || this.backoffQ.has(key)) return 'alreadyQueued';
    if (flying?.updatedPod !== undefined) info.setPod(flying.updatedPod);
    info.touch(this.clock.now());
    info.unschedulablePlugins = new Set(rejectorPlugins);
    this.nominator.add(info.podInfo);
    const retrySoon = this.moveRequestCycle >= podSchedulingCycle || rejectorPlugins.size === 0 || flying?.updatedPod !== undefined;
    if (retrySoon) {
      this.unschedulable.delete(key);
      this.backoffQ.addOrUpdate(info);
      return 'backoffQ';
    }
    this.unschedulable.set(key, info);
    return 'unschedulable';
  }

  /** Puts back a pod whose attempt failed with an error: it retries after its backoff. */
  requeueAfterError(info: QueuedPodInfo, podSchedulingCycle: number): RequeueOutcome {
    return this.addUnschedulableIfNotPresent(info, new Set(), podSchedulingCycle);
  }

  /** The loop is finished with a popped pod (bound, or given up on). */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  // --- cluster events and timers ---

  /**
   * A cluster event happened: unschedulable pods whose rejecting plugins registered it (and that
   * `preCheck`, if given, accepts) move to backoffQ while backing off, else to activeQ. Also records
   * the move request for pods in flight. Returns how many pods moved.
   */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent, preCheck?: (pod: Pod) => boolean): number {
    const toMove = [...this.unschedulable.values()].filter(
      (info) => (preCheck === undefined || preCheck(info.pod)) && eventMayHelp(event, info.unschedulablePlugins, this.pluginEvents),
    );
    this.movePods(toMove);
    // Every event counts as a move request: a rejector without registered events cares about all.
    this.moveRequestCycle = this.cycle;
    this.wake();
    return toMove.length;
  }

  /** Moves pods whose backoff has ended to activeQ. */
  flushBackoffQCompleted(now: number = this.clock.now()): number {
    let moved = 0;
    for (let next = this.backoffQ.peek(); next !== undefined && this.backoffExpiry(next) <= now; next = this.backoffQ.peek()) {
      this.backoffQ.pop();
      this.moveToActive(next);
      moved++;
    }
    this.wake();
    return moved;
  }

  /** Moves pods that waited in unschedulable longer than podMaxInUnschedulablePodsDurationMs. */
  flushUnschedulablePodsLeftover(now: number = this.clock.now()): number {
    const toMove = [...this.unschedulable.values()].filter((info) => now - info.timestamp > this.maxInUnschedulableMs);
    if (toMove.length === 0) return 0;
    this.movePods(toMove);
    this.moveRequestCycle = this.cycle;
    this.wake();
    return toMove.length;
  }

  /** Moves these pods from backoffQ or unschedulable straight to activeQ (kube's Activate). */
  activate(pods: readonly Pod[]): void {
    for (const pod of pods) {
      const key = podKey(pod);
      const info = this.backoffQ.delete(key) ?? this.unschedulable.get(key);
      if (info !== undefined) this.moveToActive(info);
    }
    this.wake();
  }

  // --- nominated pods ---

  /** Records the node preemption nominated for the pod (or, without nodeName, its status's). */
  addNominatedPod(podInfo: PodInfo, nodeName?: string): void {
    this.nominator.add(podInfo, nodeName);
  }

  deleteNominatedPodIfExists(pod: Pod): void {
    this.nominator.delete(pod);
  }

  nominatedPodsForNode(nodeName: string): readonly PodInfo[] {
    return this.nominator.podsForNode(nodeName);
  }

  nominatedNodeFor(pod: Pod): string | undefined {
    return this.nominator.nominatedNodeFor(pod);
  }

  // --- inspection ---

  /** The pending pods (up to `limit`, activeQ first) and the size of each queue. */
  pendingPods(limit = Number.POSITIVE_INFINITY): PendingPods {
    const pods: Pod[] = [];
    const sources = [this.activeQ.list(), this.backoffQ.list(), this.unschedulable.values()];
    for (const source of sources) {
      for (const info of source) {
        if (pods.length >= limit) break;
        pods.push(info.pod);
      }
    }
    const [activeQ, backoffQ, unschedulable] = [this.activeQ.size, this.backoffQ.size, this.unschedulable.size];
    const summary = `activeQ:${activeQ}; backoffQ:${backoffQ}; unschedulablePods:${unschedulable}`;
    return { pods, activeQ, backoffQ, unschedulable, inFlight: this.inFlight.size, summary };
  }

  /** Which queue holds the pod, 'inFlight' while popped, or undefined. */
  whereIs(pod: Pod): QueueName | 'inFlight' | undefined {
    const key = podKey(pod);
    if (this.activeQ.has(key)) return 'activeQ';
    if (this.backoffQ.has(key)) return 'backoffQ';
    if (this.unschedulable.has(key)) return 'unschedulable';
    return this.inFlight.has(key) ? 'inFlight' : undefined;
  }

  /** When the pod's current backoff ends (timestamp + backoff for its attempts). */
  backoffExpiry(info: QueuedPodInfo): number {
    return info.timestamp + backoffDurationMs(info.attempts, { initialMs: this.initialBackoffMs, maxMs: this.maxBackoffMs });
  }

  // --- internals ---

  /** Applies an update to a pod waiting in one of the queues; false if it is in none. */
  private updateQueued(key: string, oldPod: Pod, newPod: Pod): boolean {
    for (const heap of [this.activeQ, this.backoffQ]) {
      const info = heap.get(key);
      if (info === undefined) continue;
      info.setPod(newPod);
      heap.addOrUpdate(info); // the priority may have changed
      return true;
    }
    const info = this.unschedulable.get(key);
    if (info === undefined) return false;
    info.setPod(newPod);
    // A change to the pod itself may be what it was waiting for.
    if (isPodUpdated(oldPod, newPod)) this.movePods([info]);
    return true;
  }

  private backoffBefore(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    const ea = this.backoffExpiry(a);
    const eb = this.backoffExpiry(b);
    return ea !== eb ? ea < eb : a.sequence < b.sequence;
  }

  private findInfo(key: string): QueuedPodInfo | undefined {
    return this.activeQ.get(key) ?? this.backoffQ.get(key) ?? this.unschedulable.get(key);
  }

  private movePods(infos: readonly QueuedPodInfo[]): void {
    for (const info of infos) {
      this.unschedulable.delete(info.key);
      if (this.backoffExpiry(info) > this.clock.now()) this.backoffQ.addOrUpdate(info);
      else this.moveToActive(info);
    }
  }

  private moveToActive(info: QueuedPodInfo): void {
    info.initialAttemptTimestamp ??= this.clock.now();
    this.unschedulable.delete(info.key);
    this.backoffQ.delete(info.key);
    this.activeQ.addOrUpdate(info);
  }

  /** Hands active pods to waiting pop() calls; run at the end of each operation, not midway. */
  private wake(): void {
    while (this.waiters.length > 0 && this.activeQ.size > 0) {
      const info = this.tryPop();
      this.waiters.shift()!(info);
    }
  }
}

/** kube's PrioritySort: higher priority first, then earlier timestamp (then earlier arrival). */
function activeBefore(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
  const pa = podPriority(a.pod);
  const pb = podPriority(b.pod);
  if (pa !== pb) return pa > pb;
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp;
  return a.sequence < b.sequence;
}
