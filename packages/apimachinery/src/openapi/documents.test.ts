import { describe, expect, it } from 'vitest';
import { RESOURCES, type ResourceType } from '../resources.js';
import { documentHash, openApiV3Document, openApiV3Entry, openApiV3Paths, type OpenApiDocument } from './documents.js';
import type { PathItem } from './operations.js';
import type { GroupVersionKind } from './schemas.js';

function documentFor(type: Pick<ResourceType, 'group' | 'version'>): OpenApiDocument {
  const document = openApiV3Document(type.group, type.version);
  if (document === undefined) throw new Error(`no document for ${type.group}/${type.version}`);
  return document;
}

/**
 * What kubectl's query-param verifier does: take the PATCH operations of the kind, in path order, and
 * answer from the first one whether it lists `fieldValidation` among its query parameters.
 */
function patchSupportsFieldValidation(document: OpenApiDocument, gvk: GroupVersionKind): boolean | 'no patch path' {
  for (const item of Object.values(document.paths)) {
    const patch = item.patch;
    const found = patch?.['x-kubernetes-group-version-kind'];
    if (patch === undefined || found?.group !== gvk.group || found.version !== gvk.version || found.kind !== gvk.kind) continue;
    return (patch.parameters ?? []).some((parameter) => parameter.name === 'fieldValidation' && parameter.in === 'query');
  }
  return 'no patch path';
}

function path(document: OpenApiDocument, key: string): PathItem {
  const item = document.paths[key];
  if (item === undefined) throw new Error(`no path ${key}; have ${Object.keys(document.paths).join(', ')}`);
  return item;
}

describe('openApiV3Paths', () => {
  it('lists the discovery roots and every served group-version, with a hash of each document', () => {
    const { paths } = openApiV3Paths();
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining(['api', 'api/v1', 'apis', 'apis/apps', 'apis/apps/v1', 'apis/coordination.k8s.io/v1', 'apis/discovery.k8s.io/v1', 'apis/scheduling.k8s.io/v1']),
    );
    for (const [key, { serverRelativeURL }] of Object.entries(paths)) {
      const entry = openApiV3Entry(key);
      expect(serverRelativeURL).toBe(`/openapi/v3/${key}?hash=${entry?.hash}`);
      expect(entry?.hash).toBe(documentHash(entry?.json ?? ''));
    }
  });

  it('gives different documents different hashes', () => {
    const hashes = Object.values(openApiV3Paths().paths).map(({ serverRelativeURL }) => serverRelativeURL.split('hash=')[1]);
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});

describe('openApiV3Document', () => {
  it('lets kubectl see that every served kind validates fields on the server', () => {
    for (const type of RESOURCES) {
      expect(patchSupportsFieldValidation(documentFor(type), type), type.kind).toBe(true);
    }
  });

  it('has the check above object when PATCH lacks fieldValidation', () => {
    const document = documentFor({ group: '', version: 'v1' });
    const item = path(document, '/api/v1/namespaces/{namespace}/pods/{name}');
    const patch = item.patch;
    if (patch === undefined) throw new Error('no patch');
    const stripped = { ...patch, parameters: (patch.parameters ?? []).filter((parameter) => parameter.name !== 'fieldValidation') };
    const paths = { '/api/v1/namespaces/{namespace}/pods/{name}': { ...item, patch: stripped } };
    expect(patchSupportsFieldValidation({ ...document, paths }, { group: '', version: 'v1', kind: 'Pod' })).toBe(false);
  });

  it('serves namespaced, all-namespaces and subresource paths for pods', () => {
    const core = documentFor({ group: '', version: 'v1' });
    const collection = path(core, '/api/v1/namespaces/{namespace}/pods');
    expect(collection.get?.['x-kubernetes-action']).toBe('list');
    expect(collection.post?.['x-kubernetes-action']).toBe('post');
    expect(collection.delete?.['x-kubernetes-action']).toBe('deletecollection');
    expect(collection.post?.parameters?.map((parameter) => parameter.name)).toEqual(['dryRun', 'fieldManager', 'fieldValidation']);
    const item = path(core, '/api/v1/namespaces/{namespace}/pods/{name}');
    expect(Object.keys(item).sort()).toEqual(['delete', 'get', 'parameters', 'patch', 'put']);
    expect(path(core, '/api/v1/pods').get?.operationId).toBe('listCoreV1PodForAllNamespaces');
    expect(path(core, '/api/v1/namespaces/{namespace}/pods/{name}/status').patch?.['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'Pod' });
    expect(path(core, '/api/v1/namespaces/{namespace}/pods/{name}/binding').post?.['x-kubernetes-group-version-kind']?.kind).toBe('Binding');
    expect(path(core, '/api/v1/namespaces/{namespace}/pods/{name}/log').get?.parameters?.map((parameter) => parameter.name)).toContain('follow');
    expect(path(core, '/api/v1/watch/namespaces/{namespace}/pods/{name}').get?.['x-kubernetes-action']).toBe('watch');
  });

  it('serves cluster-scoped kinds without a namespace and scale as autoscaling/v1 Scale', () => {
    const core = documentFor({ group: '', version: 'v1' });
    expect(path(core, '/api/v1/nodes/{name}').parameters?.map((parameter) => parameter.name)).toEqual(['name', 'pretty']);
    expect(Object.keys(core.paths).some((key) => key.includes('namespaces/{namespace}/nodes'))).toBe(false);
    expect(path(core, '/api/v1/namespaces/{name}/finalize').put?.operationId).toBe('replaceCoreV1NamespaceFinalize');
    const apps = documentFor({ group: 'apps', version: 'v1' });
    const scale = path(apps, '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale');
    expect(scale.get?.['x-kubernetes-group-version-kind']).toEqual({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(scale.get?.operationId).toBe('readAppsV1NamespacedDeploymentScale');
  });

  it('is self-contained: every reference resolves among its own components, and no others are carried', () => {
    for (const key of Object.keys(openApiV3Paths().paths)) {
      const document = openApiV3Entry(key)?.document;
      const text = JSON.stringify(document);
      const referenced = new Set([...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]));
      expect([...referenced].sort(), key).toEqual(Object.keys(document?.components.schemas ?? {}));
    }
    const apps = documentFor({ group: 'apps', version: 'v1' }).components.schemas;
    expect(Object.keys(apps)).toContain('io.k8s.api.core.v1.PodSpec');
    expect(Object.keys(apps)).not.toContain('io.k8s.api.core.v1.Node');
  });

  it('answers undefined for a group-version that is not served', () => {
    expect(openApiV3Document('batch', 'v1')).toBeUndefined();
    expect(openApiV3Entry('apis/batch/v1')).toBeUndefined();
  });
});
