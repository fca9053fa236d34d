/**
 * Everything the scheduler writes to the cluster, as one interface so that the scheduling logic runs
 * in tests against a recorder and in the service against the API (kube-scheduler's clientset and
 * event recorder). Each call may fail; the caller decides what a failure means.
 */
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';

export interface ClusterWriter {
  /** pods/binding: refused (rejects) when the pod already has a node or is gone. */
  bind(pod: Pod, nodeName: string): Promise<void>;
  /**
   * Sets the pod's PodScheduled condition and, when given, status.nominatedNodeName (null clears it).
   * Writes nothing when the pod already says exactly that.
   */
  updatePodSchedulingStatus(pod: Pod, condition: PodCondition, nominatedNodeName?: string | null): Promise<void>;
  /** Clears status.nominatedNodeName (preemption took the room it was promised). */
  clearNominatedNodeName(pod: Pod): Promise<void>;
  /** Marks the victim (DisruptionTarget) and deletes it, with an event naming the preemptor. */
  evictPod(victim: Pod, preemptor: Pod, nodeName: string): Promise<void>;
  /** An Event about the pod; never waits and never throws (events may be dropped under load, as client-go's). */
  recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, action: string, message: string): void;
}
