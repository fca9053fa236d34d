/**
 * How many pods a rolling update may add above, and take below, the desired count: upstream's
 * intstr.GetScaledValueFromIntOrPercent and deployment util's ResolveFenceposts, MaxSurge,
 * MaxUnavailable. Percentages of the desired count round up for maxSurge and down for
 * maxUnavailable; when both come to 0, maxUnavailable becomes 1 so a rollout can always move.
 */
import type { Deployment } from 'kubernetes-types/apps/v1.js';

/** A spec the controller cannot act on (validation should have refused it): recorded, not retried. */
export class InvalidSpecError extends Error {}

/** An int, or a string "N%" scaled against `total` (rounded up or down). */
export function scaledValue(value: number | string | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) throw new InvalidSpecError('invalid value for IntOrString: nil value for IntOrString');
  if (typeof value === 'number') return value;
  if (!value.endsWith('%')) throw new InvalidSpecError(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const digits = value.slice(0, -1);
  if (!/^[+-]?\d+$/.test(digits)) throw new InvalidSpecError(`invalid value for IntOrString: invalid value "${value}"`);
  const scaled = (Number.parseInt(digits, 10) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/** [maxSurge, maxUnavailable] for `desired` replicas; an absent value counts as 0. */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): [number, number] {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  // Validation refuses both 0, but rounding down can still make maxUnavailable 0: then 1.
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

export function isRollingUpdate(deployment: Deployment): boolean {
  return deployment.spec?.strategy?.type !== 'Recreate';
}

export function desiredReplicas(deployment: Deployment): number {
  return deployment.spec?.replicas ?? 1;
}

function fenceposts(deployment: Deployment): [number, number] {
  const rollingUpdate = deployment.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(rollingUpdate?.maxSurge ?? '25%', rollingUpdate?.maxUnavailable ?? '25%', desiredReplicas(deployment));
}

/** Pods a rolling deployment may run above its desired count (0 for Recreate). */
export function maxSurge(deployment: Deployment): number {
  if (!isRollingUpdate(deployment)) return 0;
  return fenceposts(deployment)[0];
}

/** Pods a rolling deployment may have unavailable, at most all of them (0 for Recreate or 0 replicas). */
export function maxUnavailable(deployment: Deployment): number {
  const desired = desiredReplicas(deployment);
  if (!isRollingUpdate(deployment) || desired === 0) return 0;
  return Math.min(fenceposts(deployment)[1], desired);
}
