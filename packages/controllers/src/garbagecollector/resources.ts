import { RESOURCES, apiVersionOf, type ResourceType } from '@k8ts/apimachinery';

/** Resources the collector never watches, as upstream's default ignoredResources: core Events. */
const IGNORED = new Set(['/events']);

/**
 * Every served resource the collector can watch and delete (the verbs list, watch and delete),
 * as upstream's GetDeletableResources reads them from discovery. The components' gRPC API has no
 * discovery call, so this reads @k8ts/apimachinery's registry, which is the list the API server
 * serves (its discovery documents are made from it).
 */
export function deletableResources(registry: readonly ResourceType[] = RESOURCES): ResourceType[] {
  return registry.filter((type) => ['list', 'watch', 'delete'].every((verb) => type.verbs.includes(verb)) && !IGNORED.has(`${type.group}/${type.resource}`));
}

export function typeIdentity(type: ResourceType): { apiVersion: string; kind: string } {
  return { apiVersion: apiVersionOf(type), kind: type.kind };
}
