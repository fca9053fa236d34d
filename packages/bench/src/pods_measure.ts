/**
 * Pod startup latency as Kubernetes' SLO defines it: from the pod's creation to all its containers
 * reported started, as observed by a watch (image pulls excluded upstream; here there are none).
 * "Created" is the moment the create call was sent — creationTimestamp has whole seconds only.
 * Besides the SLO's figure: created → bound (scheduling), bound → started (the node), and delete
 * call → gone (the node's final delete). Every time is one process's clock, in milliseconds.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { summarizeLatencies, type LatencySummary } from './stats.js';

interface Timeline {
  createdMs: number;
  boundMs?: number;
  startedMs?: number;
  readyMs?: number;
  deleteMs?: number;
  goneMs?: number;
  failed?: boolean;
}

/** All containers started: each spec container reports a running state (the SLO's "started"). */
export function allContainersStarted(pod: Pod): boolean {
  const containers = pod.spec?.containers ?? [];
  const statuses = pod.status?.containerStatuses ?? [];
  return containers.length > 0 && containers.every((container) => statuses.find((status) => status.name === container.name)?.state?.running !== undefined);
}

export function podReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

export interface PodsMeasurement {
  readonly created: number;
  readonly started: number;
  readonly ready: number;
  readonly failed: number;
  readonly deleted: number;
  readonly gone: number;
  readonly startup: LatencySummary;
  readonly scheduling: LatencySummary;
  readonly nodeStart: LatencySummary;
  readonly deletion: LatencySummary;
  /** First create → last pod Ready (scale mode's figure). */
  readonly allReadyMs: number | undefined;
}

export class PodTimelines {
  private readonly pods = new Map<string, Timeline>();
  private readyCount = 0;
  private boundCount = 0;
  private startedCount = 0;
  private goneCount = 0;
  private readonly waiters = new Set<() => void>();

  /** The create call for `name` is sent now. */
  created(name: string, atMs: number): void {
    this.pods.set(name, { createdMs: atMs });
  }

  /** The create call failed: the pod does not count. */
  forget(name: string): void {
    this.pods.delete(name);
  }

  deleteRequested(name: string, atMs: number): void {
    const timeline = this.pods.get(name);
    if (timeline !== undefined && timeline.deleteMs === undefined) timeline.deleteMs = atMs;
  }

  /** A watch event's pod (added or modified). */
  observe(pod: Pod, atMs: number): void {
    const timeline = this.pods.get(pod.metadata?.name ?? '');
    if (timeline === undefined) return;
    if (timeline.boundMs === undefined && pod.spec?.nodeName) {
      timeline.boundMs = atMs;
      this.boundCount += 1;
    }
    if (timeline.startedMs === undefined && allContainersStarted(pod)) {
      timeline.startedMs = atMs;
      this.startedCount += 1;
    }
    if (timeline.readyMs === undefined && podReady(pod)) {
      timeline.readyMs = atMs;
      this.readyCount += 1;
    }
    if (pod.status?.phase === 'Failed') timeline.failed = true;
    this.wake();
  }

  /** A watch said the pod was deleted. */
  removed(pod: Pod, atMs: number): void {
    const timeline = this.pods.get(pod.metadata?.name ?? '');
    if (timeline === undefined || timeline.goneMs !== undefined) return;
    timeline.goneMs = atMs;
    this.goneCount += 1;
    this.wake();
  }

  /** Pods neither started nor gone (a pod deleted before it started is not waited for). O(pods). */
  waitingToStart(): number {
    let waiting = 0;
    for (const timeline of this.pods.values()) if (timeline.startedMs === undefined && timeline.goneMs === undefined) waiting += 1;
    return waiting;
  }

  get count(): number {
    return this.pods.size;
  }

  get bound(): number {
    return this.boundCount;
  }

  get started(): number {
    return this.startedCount;
  }

  get ready(): number {
    return this.readyCount;
  }

  get gone(): number {
    return this.goneCount;
  }

  /** Resolves when `condition` holds, checked after each observation; false at the deadline. */
  async until(condition: () => boolean, deadlineMs: number): Promise<boolean> {
    while (!condition()) {
      const left = deadlineMs - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 1000));
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
    return true;
  }

  measurement(): PodsMeasurement {
    const all = [...this.pods.values()];
    const spans = (from: (t: Timeline) => number | undefined, to: (t: Timeline) => number | undefined): number[] =>
      all.flatMap((t) => {
        const start = from(t);
        const end = to(t);
        return start === undefined || end === undefined ? [] : [Math.max(0, end - start)];
      });
    // Loops, not Math.min(...): 150,000 arguments overflow the stack.
    let firstCreate = Infinity;
    let lastReady = -Infinity;
    let allReady = all.length > 0;
    for (const t of all) {
      firstCreate = Math.min(firstCreate, t.createdMs);
      if (t.readyMs === undefined) allReady = false;
      else lastReady = Math.max(lastReady, t.readyMs);
    }
    return {
      created: all.length,
      started: this.startedCount,
      ready: this.readyCount,
      failed: all.filter((t) => t.failed === true).length,
      deleted: all.filter((t) => t.deleteMs !== undefined).length,
      gone: this.goneCount,
      startup: summarizeLatencies(spans((t) => t.createdMs, (t) => t.startedMs)),
      scheduling: summarizeLatencies(spans((t) => t.createdMs, (t) => t.boundMs)),
      nodeStart: summarizeLatencies(spans((t) => t.boundMs, (t) => t.startedMs)),
      deletion: summarizeLatencies(spans((t) => t.deleteMs, (t) => t.goneMs)),
      allReadyMs: allReady ? lastReady - firstCreate : undefined,
    };
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) {
      this.waiters.delete(waiter);
      waiter();
    }
  }
}
