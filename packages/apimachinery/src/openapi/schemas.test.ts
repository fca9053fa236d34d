import { describe, expect, it } from 'vitest';
import { RESOURCES } from '../resources.js';
import { resolveSchema, schemaNameOf, schemaSetFrom, servedSchemas } from './schemas.js';

const schemas = servedSchemas();

function schema(name: string) {
  const found = schemas.byName.get(name);
  if (found === undefined) throw new Error(`no schema ${name}`);
  return found;
}

describe('generated schemas', () => {
  it('name every served kind and its list with its upstream name and group-version-kind', () => {
    for (const type of RESOURCES) {
      const name = schemaNameOf(schemas, type);
      expect(name, type.kind).toMatch(new RegExp(`^io\\.k8s\\.api\\.${type.group.split('.')[0] || 'core'}\\.v1\\.${type.kind}$`));
      expect(schemaNameOf(schemas, { ...type, kind: `${type.kind}List` }), `${type.kind}List`).toBe(`${name}List`);
    }
    expect(schema('io.k8s.api.core.v1.Pod')['x-kubernetes-group-version-kind']).toEqual([{ group: '', version: 'v1', kind: 'Pod' }]);
    expect(schema('io.k8s.api.apps.v1.Deployment')['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
  });

  it('carry descriptions, required fields, references, lists and maps', () => {
    const container = schema('io.k8s.api.core.v1.Container');
    expect(container.description).toMatch(/^A single application container/);
    expect(container.required).toEqual(['name']);
    expect(container.properties?.['ports']).toMatchObject({
      type: 'array',
      items: { $ref: '#/components/schemas/io.k8s.api.core.v1.ContainerPort' },
      'x-kubernetes-patch-merge-key': 'containerPort',
      'x-kubernetes-patch-strategy': 'merge',
    });
    expect(container.properties?.['resources']?.allOf).toEqual([{ $ref: '#/components/schemas/io.k8s.api.core.v1.ResourceRequirements' }]);
    const labels = schema('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').properties?.['labels'];
    expect(labels).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    expect(schema('io.k8s.api.core.v1.ContainerPort').properties?.['containerPort']).toMatchObject({ type: 'integer', format: 'int32' });
  });

  it('type the special scalars as upstream does', () => {
    expect(schema('io.k8s.apimachinery.pkg.util.intstr.IntOrString')).toMatchObject({
      format: 'int-or-string',
      'x-kubernetes-int-or-string': true,
      oneOf: [{ type: 'integer' }, { type: 'string' }],
    });
    expect(schema('io.k8s.apimachinery.pkg.api.resource.Quantity').oneOf).toEqual([{ type: 'string' }, { type: 'number' }]);
    expect(schema('io.k8s.apimachinery.pkg.apis.meta.v1.Time')).toMatchObject({ type: 'string', format: 'date-time' });
    expect(schema('io.k8s.api.core.v1.HTTPGetAction').properties?.['port']?.allOf).toEqual([
      { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' },
    ]);
  });

  it('leave no reference dangling', () => {
    const text = JSON.stringify([...schemas.byName.values()]);
    for (const match of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
      expect(schemas.byName.has(match[1] ?? ''), match[1]).toBe(true);
    }
  });
});

describe('resolveSchema', () => {
  it('follows allOf wrappers and references to the declaring schema', () => {
    const podSpec = schema('io.k8s.api.core.v1.Pod').properties?.['spec'];
    expect(podSpec).toBeDefined();
    expect(resolveSchema(schemas, podSpec ?? {})).toBe(schema('io.k8s.api.core.v1.PodSpec'));
  });

  it('objects to a reference to a schema that does not exist', () => {
    const broken = schemaSetFrom({ schemas: { A: { $ref: '#/components/schemas/B', 'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'A' }] } } });
    expect(() => resolveSchema(broken, { $ref: '#/components/schemas/A' })).toThrow(/dangling reference/);
  });
});
