/**
 * The `endpoints.kubernetes.io/last-change-trigger-time` annotation, as upstream's
 * TriggerTimeTracker computes it: the earliest of the pod and Service changes seen since the
 * Service's previous sync (a pod's change is its Ready condition's lastTransitionTime, the
 * Service's its creationTimestamp), or the Service's creation on its first sync. Per process: a new
 * leader starts from "first sync" for every Service, as upstream does after a restart.
 */
import { parseTime } from '@k8ts/apimachinery';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { readyTransition } from './endpoint_rules.js';

interface ServiceState {
  readonly podTimesMs: ReadonlyMap<string, number>;
  readonly serviceTimeMs: number | undefined;
}

export class TriggerTimeTracker {
  private readonly states = new Map<string, ServiceState>();

  /**
   * The trigger time for this sync in ms since the epoch (undefined: nothing changed, clear the
   * annotation), and `record`, to call once the sync is done so that its changes count as seen.
   */
  compute(service: Service, pods: readonly Pod[]): { readonly timeMs: number | undefined; readonly record: () => void } {
    const key = `${service.metadata?.namespace ?? ''}/${service.metadata?.name ?? ''}`;
    const previous = this.states.get(key);
    const podTimesMs = new Map<string, number>();
    let earliestChangeMs: number | undefined;
    const changed = (timeMs: number): void => {
      earliestChangeMs = earliestChangeMs === undefined ? timeMs : Math.min(earliestChangeMs, timeMs);
    };
    for (const pod of pods) {
      const timeMs = parseTime(readyTransition(pod));
      if (timeMs === undefined) continue;
      const name = pod.metadata?.name ?? '';
      podTimesMs.set(name, timeMs);
      if (timeMs > (previous?.podTimesMs.get(name) ?? Number.NEGATIVE_INFINITY)) changed(timeMs);
    }
    const serviceTimeMs = parseTime(service.metadata?.creationTimestamp);
    if (serviceTimeMs !== undefined && serviceTimeMs > (previous?.serviceTimeMs ?? Number.NEGATIVE_INFINITY)) changed(serviceTimeMs);
    return {
      timeMs: previous === undefined ? serviceTimeMs : earliestChangeMs,
      record: () => {
        this.states.set(key, { podTimesMs, serviceTimeMs });
      },
    };
  }

  deleteService(namespace: string, name: string): void {
    this.states.delete(`${namespace}/${name}`);
  }
}

/** Go's time.RFC3339Nano in UTC: fractional seconds without trailing zeros, none when whole. */
export function formatRfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d*?)0*Z$/, (_, digits: string) => (digits === '' ? 'Z' : `.${digits}Z`));
}
