import type { ConfigMap, Secret, Service } from 'kubernetes-types/core/v1.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * The API objects a container's config and a pod's volumes read. The kubelet backs it with its
 * informers' listers; answers may be synchronous (a cache) or not. `undefined` means "not found";
 * any other failure is a rejection (or a throw) and is passed on as it is.
 */
export interface ObjectLookup {
  configMap(namespace: string, name: string): MaybePromise<ConfigMap | undefined>;
  secret(namespace: string, name: string): MaybePromise<Secret | undefined>;
  /** Every Service of the namespace. */
  services(namespace: string): MaybePromise<readonly Service[]>;
}
