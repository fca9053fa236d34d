/**
 * The `kube-root-ca.crt` ConfigMap every namespace holds (upstream
 * pkg/controller/certificates/rootcacertpublisher): the cluster's CA bundle under `ca.crt`, so that
 * pods can verify the API server, and a `kubernetes.io/description` annotation saying so.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';

export const ROOT_CA_CONFIG_MAP = 'kube-root-ca.crt';
export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
export const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. ' +
  'No other usage is guaranteed across distributions of Kubernetes clusters.';

/** The ConfigMap to create in a namespace that has none. */
export function newRootCaConfigMap(namespace: string, caBundle: string): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: ROOT_CA_CONFIG_MAP, namespace, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
    data: { 'ca.crt': caBundle },
  };
}

/**
 * The existing ConfigMap put right (data exactly `ca.crt`, the description annotation set), or
 * undefined when it already is: its other annotations and labels are the user's and stay.
 */
export function repairedRootCaConfigMap(current: ConfigMap, caBundle: string): ConfigMap | undefined {
  const data = { 'ca.crt': caBundle };
  if (isDeepStrictEqual({ ...current.data }, data) && (current.metadata?.annotations?.[DESCRIPTION_ANNOTATION] ?? '') !== '') return undefined;
  return {
    ...current,
    metadata: { ...current.metadata, annotations: { ...current.metadata?.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
    data,
  };
}
