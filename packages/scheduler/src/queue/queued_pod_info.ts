/**
 * A pod waiting in the scheduling queue, with what the queue remembers about its attempts
 * (kube's framework.QueuedPodInfo).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podInfoFor, podKey, type PodInfo } from '../framework/node_info.js';

export class QueuedPodInfo {
  podInfo: PodInfo;
  /** When the pod was (re)added to the queue: orders activeQ ties and starts the backoff. */
  timestamp: number;
  /** Scheduling attempts so far (pop counts one). */
  attempts = 0;
  /** When the pod first entered activeQ: end-to-end scheduling latency starts here. */
  initialAttemptTimestamp: number | undefined = undefined;
  /** Plugins that rejected the pod in its last attempt; cleared when it is popped again. */
  unschedulablePlugins = new Set<string>();

  /** Orders pods with equal timestamps by arrival, so equal-time pods leave first-in first-out. */
  sequence: number;

  constructor(pod: Pod, timestamp: number) {
    this.podInfo = podInfoFor(pod);
    this.timestamp = timestamp;
    this.sequence = nextSequence();
  }

  /** The pod re-enters the queue now. */
  touch(now: number): void {
    this.timestamp = now;
    this.sequence = nextSequence();
  }

  get pod(): Pod {
    return this.podInfo.pod;
  }

  get key(): string {
    return podKey(this.podInfo.pod);
  }

  /** Takes a newer version of the same pod, keeping the queue bookkeeping. */
  setPod(pod: Pod): void {
    this.podInfo = podInfoFor(pod);
  }
}

let sequenceCounter = 0;
function nextSequence(): number {
  return ++sequenceCounter;
}
