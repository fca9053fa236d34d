/**
 * Writes pods' statuses to the API server, as the kubelet's status manager: only when something
 * changed, merged with the API's version (conditions the kubelet does not own — PodScheduled,
 * DisruptionTarget, readiness gates' — are kept), retried on a conflict against a fresh read, and never
 * moving a pod out of a terminal phase.
 */
import { isConflict, isNotFound, type ResourceClient } from '@k8ts/client';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import { KUBELET_CONDITIONS } from './pod_status.js';

const CONFLICT_RETRIES = 5;

export class StatusManager {
  /** Pod uid → the status last written (canonical JSON), so a lagging cache causes no rewrite. */
  private readonly written = new Map<string, string>();

  constructor(
    private readonly pods: ResourceClient<Pod & { metadata?: Pod['metadata'] }>,
    private readonly logger: Logger,
  ) {}

  /**
   * Writes `status` for `pod` (the newest copy the caller has) unless the API already holds it.
   * Resolves to the pod as written, or undefined when nothing was written (unchanged, or gone).
   */
  async setStatus(pod: Pod, status: PodStatus): Promise<Pod | undefined> {
    const uid = pod.metadata?.uid ?? '';
    let current: Pod = pod;
    for (let attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
      const merged = mergeStatus(current.status ?? {}, status);
      const text = canonicalJson(merged);
      if (text === canonicalJson(current.status ?? {}) || text === this.written.get(uid)) return undefined;
      try {
        const written = await this.pods.namespace(current.metadata?.namespace ?? '').updateStatus({ ...current, status: merged });
        this.written.set(uid, text);
        return written;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        if (!isConflict(error)) throw error;
        const fresh = await this.read(current);
        if (fresh === undefined || fresh.metadata?.uid !== uid) return undefined;
        current = fresh;
      }
    }
    this.logger.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, 'pod status not written: conflicts kept coming');
    return undefined;
  }

  /** Forgets a pod that is gone. */
  forget(uid: string): void {
    this.written.delete(uid);
  }

  private async read(pod: Pod): Promise<Pod | undefined> {
    try {
      return await this.pods.namespace(pod.metadata?.namespace ?? '').get(pod.metadata?.name ?? '');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

/** The kubelet's status over the API's: its own conditions replaced, the others kept; a terminal phase stays. */
export function mergeStatus(api: PodStatus, kubelet: PodStatus): PodStatus {
  const owned = new Set<string>(KUBELET_CONDITIONS);
  const others = (api.conditions ?? []).filter((condition) => !owned.has(condition.type));
  const merged: PodStatus = { ...api, ...kubelet, conditions: [...(kubelet.conditions ?? []), ...others] };
  const terminal = (phase: string | undefined): boolean => phase === 'Succeeded' || phase === 'Failed';
  if (api.phase !== undefined && terminal(api.phase) && !terminal(merged.phase)) merged.phase = api.phase;
  return merged;
}

/** JSON with sorted keys, so two equal statuses compare equal whatever order their fields came in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    return Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}
