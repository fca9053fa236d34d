/**
 * The resources this API server serves, as discovery and the REST paths name them. One entry per
 * resource: adding a resource is adding a line here (and its validation, defaults and table columns
 * where it has any).
 */
export interface ResourceType {
  /** '' for the core group (served under /api/v1). */
  readonly group: string;
  readonly version: string;
  /** Plural, lower case: the path segment ("pods"). */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  readonly subresources: readonly SubresourceName[];
  /**
   * Fields a field selector may name besides metadata.name and metadata.namespace (as
   * kube-apiserver's per-resource field label conversion allows).
   */
  readonly selectableFields: readonly string[];
}

export type SubresourceName = 'status' | 'binding' | 'log' | 'scale' | 'finalize' | 'eviction' | ConnectSubresource;

/** Pods' subresources that are HTTP upgrades to a stream (kube's "connect" verb), not objects. */
export type ConnectSubresource = 'exec' | 'attach' | 'portforward';

const STANDARD_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

function resource(
  group: string,
  kind: string,
  resourceName: string,
  options: {
    namespaced: boolean;
    shortNames?: string[];
    categories?: string[];
    subresources?: SubresourceName[];
    selectableFields?: string[];
  },
): ResourceType {
  return {
    group,
    version: 'v1',
    resource: resourceName,
    singular: kind.toLowerCase(),
    kind,
    namespaced: options.namespaced,
    shortNames: options.shortNames ?? [],
    categories: options.categories ?? [],
    verbs: STANDARD_VERBS,
    subresources: options.subresources ?? [],
    selectableFields: options.selectableFields ?? [],
  };
}

export const RESOURCES: readonly ResourceType[] = [
  resource('', 'Namespace', 'namespaces', {
    namespaced: false,
    shortNames: ['ns'],
    subresources: ['status', 'finalize'],
    selectableFields: ['status.phase'],
  }),
  resource('', 'Node', 'nodes', { namespaced: false, shortNames: ['no'], subresources: ['status'], selectableFields: ['spec.unschedulable'] }),
  resource('', 'Pod', 'pods', {
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    // In kube-apiserver's (alphabetical) discovery order.
    subresources: ['attach', 'binding', 'eviction', 'exec', 'log', 'portforward', 'status'],
    selectableFields: [
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
  }),
  resource('', 'Service', 'services', { namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  resource('', 'Endpoints', 'endpoints', { namespaced: true, shortNames: ['ep'] }),
  resource('', 'Event', 'events', {
    namespaced: true,
    shortNames: ['ev'],
    selectableFields: [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
  }),
  resource('', 'ConfigMap', 'configmaps', { namespaced: true, shortNames: ['cm'] }),
  resource('', 'Secret', 'secrets', { namespaced: true, selectableFields: ['type'] }),
  resource('', 'ServiceAccount', 'serviceaccounts', { namespaced: true, shortNames: ['sa'] }),
  resource('coordination.k8s.io', 'Lease', 'leases', { namespaced: true }),
  resource('apps', 'Deployment', 'deployments', {
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: ['status', 'scale'],
  }),
  resource('apps', 'ReplicaSet', 'replicasets', {
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    subresources: ['status', 'scale'],
    selectableFields: ['status.replicas'],
  }),
  resource('discovery.k8s.io', 'EndpointSlice', 'endpointslices', { namespaced: true }),
  resource('scheduling.k8s.io', 'PriorityClass', 'priorityclasses', { namespaced: false, shortNames: ['pc'] }),
  resource('policy', 'PodDisruptionBudget', 'poddisruptionbudgets', { namespaced: true, shortNames: ['pdb'], subresources: ['status'] }),
];

export function apiVersionOf(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

/** "pods", or "deployments.apps": how kube-apiserver names a resource in its error messages. */
export function qualifiedResource(type: Pick<ResourceType, 'group' | 'resource'>): string {
  return type.group === '' ? type.resource : `${type.resource}.${type.group}`;
}

/** The group-versions served, in discovery order (core first). */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const type of RESOURCES) seen.set(apiVersionOf(type), { group: type.group, version: type.version });
  return [...seen.values()];
}

export function findResource(group: string, version: string, resourceName: string): ResourceType | undefined {
  return RESOURCES.find((type) => type.group === group && type.version === version && type.resource === resourceName);
}

export function findKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((type) => apiVersionOf(type) === apiVersion && type.kind === kind);
}
