/**
 * Reading a Deployment's ReplicaSets: which one is new (its template is the Deployment's), which
 * are old, the orders upstream sorts them in, and the replica counts summed over them.
 */
import { parseTime } from '@k8ts/apimachinery';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { desiredReplicasAnnotation } from './annotations.js';
import { desiredReplicas } from './fenceposts.js';
import { equalIgnoreHash } from './template_hash.js';

export function specReplicas(replicaSet: ReplicaSet): number {
  return replicaSet.spec?.replicas ?? 0;
}

function createdMs(replicaSet: ReplicaSet): number {
  return parseTime(replicaSet.metadata?.creationTimestamp) ?? 0;
}

/** Oldest first; equal times by name (upstream's ReplicaSetsByCreationTimestamp). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const delta = createdMs(a) - createdMs(b);
  if (delta !== 0) return delta;
  const nameA = a.metadata?.name ?? '';
  const nameB = b.metadata?.name ?? '';
  return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
}

/** Largest first; equal sizes oldest first (ReplicaSetsBySizeOlder: scaling down). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(a, b);
}

/** Largest first; equal sizes newest first (ReplicaSetsBySizeNewer: scaling up). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return specReplicas(b) - specReplicas(a) || byCreation(b, a);
}

/** ReplicaSets with replicas wanted (FilterActiveReplicaSets); undefined entries dropped. */
export function activeReplicaSets(replicaSets: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return replicaSets.filter((replicaSet): replicaSet is ReplicaSet => replicaSet !== undefined && specReplicas(replicaSet) > 0);
}

/** The oldest ReplicaSet whose template is the Deployment's (FindNewReplicaSet). */
export function findNewReplicaSet(deployment: Deployment, replicaSets: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...replicaSets].sort(byCreation).find((replicaSet) => equalIgnoreHash(replicaSet.spec?.template, deployment.spec?.template));
}

/** Every ReplicaSet but the new one (FindOldReplicaSets' second result). */
export function findOldReplicaSets(deployment: Deployment, replicaSets: readonly ReplicaSet[]): ReplicaSet[] {
  const newReplicaSet = findNewReplicaSet(deployment, replicaSets);
  return replicaSets.filter((replicaSet) => replicaSet !== newReplicaSet);
}

/**
 * The one ReplicaSet a plain scale goes to (FindActiveOrLatest): the only active one; with none
 * active the new one, else the newest old one; undefined when several are active.
 */
export function findActiveOrLatest(newReplicaSet: ReplicaSet | undefined, oldReplicaSets: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (newReplicaSet === undefined && oldReplicaSets.length === 0) return undefined;
  const newestFirst = [...oldReplicaSets].sort((a, b) => byCreation(b, a));
  const active = activeReplicaSets([...newestFirst, newReplicaSet]);
  if (active.length === 0) return newReplicaSet ?? newestFirst[0];
  return active.length === 1 ? active[0] : undefined;
}

/** The new ReplicaSet has the whole Deployment, scaled for it and available (IsSaturated). */
export function isSaturated(deployment: Deployment, replicaSet: ReplicaSet | undefined): boolean {
  if (replicaSet === undefined) return false;
  const desired = desiredReplicas(deployment);
  return specReplicas(replicaSet) === desired && desiredReplicasAnnotation(replicaSet) === desired && (replicaSet.status?.availableReplicas ?? 0) === desired;
}

type Present = ReplicaSet | undefined;
const sum = (replicaSets: readonly Present[], count: (replicaSet: ReplicaSet) => number): number =>
  replicaSets.reduce((total, replicaSet) => total + (replicaSet === undefined ? 0 : count(replicaSet)), 0);

/** Σ spec.replicas (GetReplicaCountForReplicaSets). */
export const specReplicaCount = (replicaSets: readonly Present[]): number => sum(replicaSets, specReplicas);
/** Σ status.replicas: the pods the ReplicaSet controller last saw (GetActualReplicaCountForReplicaSets). */
export const actualReplicaCount = (replicaSets: readonly Present[]): number => sum(replicaSets, (rs) => rs.status?.replicas ?? 0);
export const readyReplicaCount = (replicaSets: readonly Present[]): number => sum(replicaSets, (rs) => rs.status?.readyReplicas ?? 0);
export const availableReplicaCount = (replicaSets: readonly Present[]): number => sum(replicaSets, (rs) => rs.status?.availableReplicas ?? 0);
