/**
 * The pods of a simulated fleet, moved through their phases as a kubelet with instant containers
 * would, on kwok's stages: bound → (ContainerCreating, when there is a start delay) → Running →
 * Ready (probes are deemed to pass) → Succeeded for pods that end (owned by a Job); a share of pods
 * fail instead (phase Failed, exit code 1). A pod marked for deletion is deleted for good (grace 0,
 * uid precondition) once its containers "stopped": after the delete delay, never later than its grace.
 *
 * Level-triggered, as a pod worker: an observed pod only decides the pod's state; what is written
 * is read from the state when the write runs, through the fleet's bounded write lane (one write per
 * pod at a time; a newer one replaces a waiting one). A compact record per live pod is all it keeps.
 */
import type { Clock, TimerHandle } from '@k8ts/base';
import { isConflict, isNotFound, toApiError } from '@k8ts/client';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import type { SimulatedPodTimings } from './options.js';
import type { PodIpPool } from './pod_ips.js';
import { buildPodStatus, summarizePod, type PodSummary, type SimulatedPodState } from './pod_status.js';
import { podKey, type PodStreamHandler } from './pod_stream.js';
import type { WriteQueue } from './write_queue.js';

/** A node of the fleet, as its pods need it. */
export interface SimulatedNodeRef {
  readonly name: string;
  readonly hostIP: string;
  /** The node's pod addresses: its spec.podCIDR's, or its fallback range's. */
  podIps(): PodIpPool;
}

/** The two pod writes a kubelet makes. Both reject with the API's error. */
export interface PodWrites {
  /** A strategic merge patch of pods/status, with the uid as precondition. */
  patchStatus(namespace: string, name: string, uid: string, status: PodStatus): Promise<void>;
  /** The final delete: grace 0, uid precondition. */
  deleteNow(namespace: string, name: string, uid: string): Promise<void>;
}

type Stage = 'starting' | 'running' | 'ended' | 'deleting';

interface TrackedPod {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: SimulatedNodeRef;
  readonly summary: PodSummary;
  /** When the fleet took the pod on (its status.startTime). */
  readonly acceptedMs: number;
  stage: Stage;
  state: SimulatedPodState;
  ip: string | undefined;
  timer: TimerHandle | undefined;
  /** A failed write's retry (apart from `timer`: the next stage's timer keeps running meanwhile). */
  retryTimer: TimerHandle | undefined;
  /** Whether a status must be written for the current state (false once written). */
  dirty: boolean;
  retryMs: number;
}

export interface SimulatedPodCounts {
  readonly tracked: number;
  readonly starting: number;
  readonly running: number;
  readonly deleting: number;
  readonly statusWrites: number;
  readonly deletes: number;
  readonly writeErrors: number;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;
/** A node whose pod CIDR is full: the start is tried again after this (the sandbox's retry). */
const NO_ADDRESS_RETRY_MS = 10_000;

export interface SimulatedPodsOptions {
  readonly nodes: (name: string) => SimulatedNodeRef | undefined;
  readonly writes: PodWrites;
  readonly queue: WriteQueue;
  readonly timings: SimulatedPodTimings;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
}

export class SimulatedPods implements PodStreamHandler {
  private readonly pods = new Map<string, TrackedPod>();
  private statusWrites = 0;
  private deletes = 0;
  private writeErrors = 0;
  private stopped = false;

  constructor(private readonly options: SimulatedPodsOptions) {}

  counts(): SimulatedPodCounts {
    let starting = 0;
    let running = 0;
    let deleting = 0;
    for (const pod of this.pods.values()) {
      if (pod.stage === 'starting') starting += 1;
      else if (pod.stage === 'running') running += 1;
      else if (pod.stage === 'deleting') deleting += 1;
    }
    return { tracked: this.pods.size, starting, running, deleting, statusWrites: this.statusWrites, deletes: this.deletes, writeErrors: this.writeErrors };
  }

  /** Cancels every timer; writes already queued are the queue's to drop. */
  stop(): void {
    this.stopped = true;
    for (const pod of this.pods.values()) {
      pod.timer?.cancel();
      pod.retryTimer?.cancel();
    }
  }

  upsert(object: Pod): void {
    if (this.stopped) return;
    const node = this.options.nodes(object.spec?.nodeName ?? '');
    const key = podKey(object);
    let pod = this.pods.get(key);
    if (pod !== undefined && (pod.uid !== object.metadata?.uid || node === undefined)) {
      this.forget(pod); // the name now holds another pod (or left the fleet's nodes)
      pod = undefined;
    }
    if (node === undefined) return;
    if (object.metadata?.deletionTimestamp) {
      this.beginDeletion(pod ?? this.track(object, node, 'deleting'), object);
      return;
    }
    if (pod !== undefined) return; // already driven from its state
    const phase = object.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return; // ended: nothing left to do until it is deleted
    if (phase === 'Running' && this.adopt(object, node)) return;
    this.start(this.track(object, node, 'starting'));
  }

  remove(object: Pod): void {
    const pod = this.pods.get(podKey(object));
    if (pod !== undefined && pod.uid === object.metadata?.uid) this.forget(pod);
  }

  relisted(present: ReadonlySet<string>): void {
    for (const pod of [...this.pods.values()]) if (!present.has(pod.key)) this.forget(pod);
  }

  private track(object: Pod, node: SimulatedNodeRef, stage: Stage): TrackedPod {
    const now = this.options.clock.now();
    const pod: TrackedPod = {
      key: podKey(object),
      namespace: object.metadata?.namespace ?? '',
      name: object.metadata?.name ?? '',
      uid: object.metadata?.uid ?? '',
      node,
      summary: summarizePod(object),
      acceptedMs: Date.parse(object.status?.startTime ?? '') || now,
      stage,
      state: { phase: 'Pending', sinceMs: now },
      ip: undefined,
      timer: undefined,
      retryTimer: undefined,
      dirty: false,
      retryMs: RETRY_MIN_MS,
    };
    this.pods.set(pod.key, pod);
    return pod;
  }

  /** A pod this fleet ran before a restart: keep it running at its address. */
  private adopt(object: Pod, node: SimulatedNodeRef): boolean {
    const ip = object.status?.podIP;
    const statuses = object.status?.containerStatuses ?? [];
    if (ip === undefined || statuses.length === 0 || !statuses.every((status) => status.state?.running !== undefined)) return false;
    if (!node.podIps().claim(ip)) return false;
    const pod = this.track(object, node, 'running');
    const startedMs = Date.parse(statuses[0]?.state?.running?.startedAt ?? '') || this.options.clock.now();
    const ready = statuses.every((status) => status.ready === true);
    pod.ip = ip;
    pod.state = { phase: 'Running', startedMs, ready, sinceMs: this.options.clock.now() };
    if (!ready) this.after(pod, this.options.timings.readyDelayMs, () => this.becomeReady(pod));
    else if (pod.summary.completes) this.after(pod, this.options.timings.completeAfterMs, () => this.complete(pod));
    return true;
  }

  private start(pod: TrackedPod): void {
    const { startDelayMs } = this.options.timings;
    if (startDelayMs > 0) this.write(pod); // ContainerCreating, as a kubelet reports while it starts the sandbox
    this.after(pod, startDelayMs, () => this.run(pod));
  }

  private run(pod: TrackedPod): void {
    const now = this.options.clock.now();
    if (this.options.random() < this.options.timings.failureRate) {
      pod.stage = 'ended';
      pod.state = { phase: 'Failed', startedMs: now, finishedMs: now };
      this.write(pod);
      return;
    }
    const ip = pod.node.podIps().allocate();
    if (ip === undefined) {
      this.options.logger.warn({ pod: pod.key, node: pod.node.name }, 'no pod address left in the node\'s podCIDR; retrying the sandbox');
      this.after(pod, NO_ADDRESS_RETRY_MS, () => this.run(pod));
      return;
    }
    const ready = this.options.timings.readyDelayMs === 0;
    pod.ip = ip;
    pod.stage = 'running';
    pod.state = { phase: 'Running', startedMs: now, ready, sinceMs: now };
    this.write(pod);
    if (!ready) this.after(pod, this.options.timings.readyDelayMs, () => this.becomeReady(pod));
    else if (pod.summary.completes) this.after(pod, this.options.timings.completeAfterMs, () => this.complete(pod));
  }

  private becomeReady(pod: TrackedPod): void {
    if (pod.state.phase !== 'Running') return;
    pod.state = { ...pod.state, ready: true, sinceMs: this.options.clock.now() };
    this.write(pod);
    if (pod.summary.completes) this.after(pod, this.options.timings.completeAfterMs, () => this.complete(pod));
  }

  private complete(pod: TrackedPod): void {
    if (pod.state.phase !== 'Running') return;
    pod.stage = 'ended';
    pod.state = { phase: 'Succeeded', startedMs: pod.state.startedMs, finishedMs: this.options.clock.now() };
    this.releaseAddress(pod);
    this.write(pod);
  }

  private beginDeletion(pod: TrackedPod, object: Pod): void {
    if (pod.stage === 'deleting') return;
    pod.stage = 'deleting';
    pod.timer?.cancel();
    const graceMs = (object.metadata?.deletionGracePeriodSeconds ?? 30) * 1000;
    const delayMs = Math.min(graceMs, this.options.timings.deleteDelayMs + this.jitter());
    pod.timer = this.options.clock.schedule(delayMs, () => {
      pod.timer = undefined;
      this.options.queue.enqueue(pod.key, () => this.deleteNow(pod));
    });
  }

  /** Runs `then` after `delayMs` plus jitter, unless the pod is being deleted by then. */
  private after(pod: TrackedPod, delayMs: number, then: () => void): void {
    pod.timer?.cancel();
    pod.timer = this.options.clock.schedule(delayMs + this.jitter(), () => {
      pod.timer = undefined;
      if (!this.stopped && pod.stage !== 'deleting' && this.pods.get(pod.key) === pod) then();
    });
  }

  private jitter(): number {
    const { jitterMs } = this.options.timings;
    return jitterMs > 0 ? Math.floor(this.options.random() * jitterMs) : 0;
  }

  private write(pod: TrackedPod): void {
    pod.dirty = true;
    this.options.queue.enqueue(pod.key, () => this.writeStatus(pod));
  }

  private async writeStatus(pod: TrackedPod): Promise<void> {
    if (!pod.dirty || pod.stage === 'deleting' || this.pods.get(pod.key) !== pod) return;
    pod.dirty = false;
    const state = pod.state;
    const addresses = { hostIP: pod.node.hostIP, ...(pod.ip === undefined ? {} : { podIP: pod.ip }) };
    const status = buildPodStatus(pod.summary, state, addresses, { acceptedMs: pod.acceptedMs, nowMs: this.options.clock.now() });
    try {
      await this.options.writes.patchStatus(pod.namespace, pod.name, pod.uid, status);
      this.statusWrites += 1;
      pod.retryMs = RETRY_MIN_MS;
      // An ended pod needs nothing more until it is deleted: its record goes (the deletion makes a new one).
      if (pod.stage === 'ended' && !pod.dirty && this.pods.get(pod.key) === pod) this.forget(pod);
    } catch (error) {
      if (this.gone(error)) return this.forget(pod);
      this.retry(pod, error, () => {
        pod.dirty = true;
        this.options.queue.enqueue(pod.key, () => this.writeStatus(pod));
      });
    }
  }

  private async deleteNow(pod: TrackedPod): Promise<void> {
    if (this.pods.get(pod.key) !== pod) return;
    try {
      await this.options.writes.deleteNow(pod.namespace, pod.name, pod.uid);
      this.deletes += 1;
      this.forget(pod);
    } catch (error) {
      if (this.gone(error)) return this.forget(pod);
      this.retry(pod, error, () => this.options.queue.enqueue(pod.key, () => this.deleteNow(pod)));
    }
  }

  /** NotFound, or a uid precondition that failed: this pod is no longer there. */
  private gone(error: unknown): boolean {
    if (isNotFound(error) || isConflict(error)) return true;
    const apiError = toApiError(error);
    return apiError.status.reason === 'Invalid' && /uid/.test(apiError.message);
  }

  private retry(pod: TrackedPod, error: unknown, again: () => void): void {
    this.writeErrors += 1;
    const delayMs = pod.retryMs;
    pod.retryMs = Math.min(pod.retryMs * 2, RETRY_MAX_MS);
    this.options.logger.warn({ pod: pod.key, err: (error as Error).message, retryInMs: delayMs }, 'pod write failed; retrying');
    pod.retryTimer?.cancel();
    pod.retryTimer = this.options.clock.schedule(delayMs, () => {
      pod.retryTimer = undefined;
      if (!this.stopped && this.pods.get(pod.key) === pod) again();
    });
  }

  private releaseAddress(pod: TrackedPod): void {
    if (pod.ip !== undefined) pod.node.podIps().release(pod.ip);
    pod.ip = undefined;
  }

  private forget(pod: TrackedPod): void {
    pod.timer?.cancel();
    pod.timer = undefined;
    pod.retryTimer?.cancel();
    pod.retryTimer = undefined;
    this.releaseAddress(pod);
    if (this.pods.get(pod.key) === pod) {
      this.pods.delete(pod.key);
      this.options.queue.cancel(pod.key);
    }
  }
}
