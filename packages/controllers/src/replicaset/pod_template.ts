/**
 * The pod a ReplicaSet creates from its template, as upstream's GetPodFromTemplate: the template's
 * labels, annotations, finalizers and spec; `generateName: <replicaset-name>-` (the server appends
 * a random suffix); and the ReplicaSet as controller owner (controller and blockOwnerDeletion true).
 */
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { controllerRefFor, type OwnerKind } from '../framework/controller_ref.js';
import type { PodObject } from '../framework/pods.js';

/** How a ReplicaSet's controller references name it. */
export const REPLICA_SET_KIND: OwnerKind = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };

/** Longest DNS-1123 subdomain, which a pod name (prefix included) must be. */
const MAX_NAME_LENGTH = 253;

export function podFromTemplate(replicaSet: ReplicaSet): PodObject {
  const template = replicaSet.spec?.template ?? {};
  const templateMeta = template.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: podNamePrefix(replicaSet.metadata?.name ?? ''),
      ...(replicaSet.metadata?.namespace !== undefined ? { namespace: replicaSet.metadata.namespace } : {}),
      ...(templateMeta.labels !== undefined ? { labels: { ...templateMeta.labels } } : {}),
      ...(templateMeta.annotations !== undefined ? { annotations: { ...templateMeta.annotations } } : {}),
      ...(templateMeta.finalizers !== undefined ? { finalizers: [...templateMeta.finalizers] } : {}),
      ownerReferences: [controllerRefFor(replicaSet, REPLICA_SET_KIND)],
    },
    spec: structuredClone(template.spec ?? { containers: [] }),
  };
}

/** `<name>-` for prettier pod names, unless the dash would make the prefix too long (upstream's getPodsPrefix). */
export function podNamePrefix(replicaSetName: string): string {
  return replicaSetName.length + 1 <= MAX_NAME_LENGTH ? `${replicaSetName}-` : replicaSetName;
}
