/**
 * Whether a pod update can change a scheduling decision: anything but resourceVersion, generation,
 * managedFields, finalizers and status (other than the resize request) counts, as upstream's
 * isPodUpdated.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

export function isPodUpdated(oldPod: Pod, newPod: Pod): boolean {
  return !deepEqual(schedulingRelevant(oldPod), schedulingRelevant(newPod));
}

function schedulingRelevant(pod: Pod): unknown {
  const { resourceVersion: _version, generation: _generation, managedFields: _fields, finalizers: _finalizers, ...metadata } = pod.metadata ?? {};
  return { ...pod, metadata, status: { resize: pod.status?.resize } };
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a).filter((key) => (a as Record<string, unknown>)[key] !== undefined);
  const bKeys = Object.keys(b).filter((key) => (b as Record<string, unknown>)[key] !== undefined);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}
