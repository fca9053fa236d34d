import { apiErrors, apiVersionOf, groupVersions, RESOURCES, type ResourceType, type SubresourceName } from '@k8ts/apimachinery';

/** The Kubernetes version this server speaks (kubectl warns when it is more than one minor apart). */
export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-k8ts' };

export function versionInfo(): Record<string, string> {
  return {
    ...KUBERNETES_VERSION,
    gitCommit: 'k8ts',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'node',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

/** `/api`: the core group's versions. */
export function coreVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(group: string): object {
  const versions = groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: `${group}/${gv.version}`, version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

/** `/apis`: every named group. */
export function groupList(): object {
  const groups = [...new Set(groupVersions().map((gv) => gv.group))].filter((group) => group !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupEntry) };
}

/** `/apis/<group>`. */
export function apiGroup(group: string): object {
  if (!groupVersions().some((gv) => gv.group === group && group !== '')) throw apiErrors.notFoundPath(`/apis/${group}`);
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group) };
}

const SUBRESOURCE_VERBS: Record<SubresourceName, string[]> = {
  status: ['get', 'patch', 'update'],
  scale: ['get', 'patch', 'update'],
  binding: ['create'],
  log: ['get'],
  finalize: ['update'],
  eviction: ['create'],
  exec: ['create', 'get'],
  attach: ['create', 'get'],
  portforward: ['create', 'get'],
};

/** The kind a subresource speaks where it is not the resource's own (group and version where not core/v1). */
const SUBRESOURCE_KINDS: Partial<Record<SubresourceName, { kind: string; group?: string; version?: string }>> = {
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1' },
  binding: { kind: 'Binding' },
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1' },
  exec: { kind: 'PodExecOptions' },
  attach: { kind: 'PodAttachOptions' },
  portforward: { kind: 'PodPortForwardOptions' },
};

function subresourceEntry(type: ResourceType, subresource: SubresourceName): object {
  const kind = SUBRESOURCE_KINDS[subresource] ?? { kind: type.kind };
  return { name: `${type.resource}/${subresource}`, singularName: '', namespaced: type.namespaced, ...kind, verbs: SUBRESOURCE_VERBS[subresource] };
}

/** `/api/v1` and `/apis/<group>/<version>`: the resources, their verbs, short names and categories. */
export function resourceList(group: string, version: string): object {
  const types = RESOURCES.filter((type) => type.group === group && type.version === version);
  if (types.length === 0) throw apiErrors.notFoundPath(group === '' ? `/api/${version}` : `/apis/${group}/${version}`);
  const resources = types.flatMap((type) => [
    {
      name: type.resource,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: type.verbs,
      ...(type.shortNames.length > 0 ? { shortNames: type.shortNames } : {}),
      ...(type.categories.length > 0 ? { categories: type.categories } : {}),
    },
    ...type.subresources.map((subresource) => subresourceEntry(type, subresource)),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}
