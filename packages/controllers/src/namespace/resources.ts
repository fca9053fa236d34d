import { RESOURCES, type ResourceType } from '@k8ts/apimachinery';

/**
 * The resources whose objects live in namespaces and can be deleted: what a terminating
 * namespace is emptied of (upstream reads them from discovery; the components' gRPC API has no
 * discovery call, so this reads @k8ts/apimachinery's registry, the list the API server serves and
 * its discovery documents are made from).
 */
export function namespacedDeletableResources(registry: readonly ResourceType[] = RESOURCES): ResourceType[] {
  return registry.filter((type) => type.namespaced && type.verbs.includes('delete'));
}

/** How upstream names a resource in the namespace's conditions: "pods.", "deployments.apps". */
export function resourceLabel(type: Pick<ResourceType, 'group' | 'resource'>): string {
  return `${type.resource}.${type.group}`;
}

/** schema.GroupVersionResource as Go prints it in errors: "/v1, Resource=pods", "apps/v1, Resource=deployments". */
export function gvrText(type: Pick<ResourceType, 'group' | 'version' | 'resource'>): string {
  return `${type.group}/${type.version}, Resource=${type.resource}`;
}
