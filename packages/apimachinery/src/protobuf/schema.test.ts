import { describe, expect, it } from 'vitest';
import { resolveSchema, schemaNameOf, servedSchemas, type Schema, type SchemaSet } from '../openapi/schemas.js';
import { builtInMessages, parseMessageTables, type MessageSpec } from './schema.js';

describe('message tables', () => {
  it('parse, with every reference resolved', () => {
    const messages = builtInMessages();
    expect(messages.get('core.PodSpec')?.byNumber.get(2)).toEqual({ number: 2, jsonName: 'containers', kind: 'message', type: 'core.Container', cardinality: 'repeated', presence: 'always' });
    expect(messages.get('meta.ObjectMeta')?.byNumber.get(9)).toMatchObject({ jsonName: 'deletionTimestamp', type: 'Time', presence: 'pointer' });
  });

  it.each([
    [{ M: 'a=1:string b=1:int32' }, /field number 1 used twice/],
    [{ M: 'a=1:string a=2:int32' }, /a used twice/],
    [{ M: 'a=1:Missing' }, /unknown message p.Missing/],
    [{ M: 'a=1:N?', N: '' }, /omitempty has no effect on a struct/],
    [{ M: 'a=1:string[]*' }, /a list or map cannot be a pointer/],
    [{ M: '=1:string' }, /only a plain message field can be embedded/],
    [{ M: 'a:1:string' }, /bad field "a:1:string"/],
  ])('reject a broken table %j', (table, message) => {
    expect(() => parseMessageTables({ p: table })).toThrow(message);
  });
});

/** Table fields whose JSON names the served OpenAPI schemas (kubernetes-types 1.30) do not declare. */
function fieldsMissingFromSchemas(messages: ReadonlyMap<string, MessageSpec>, schemas: SchemaSet): string[] {
  const missing = new Set<string>();
  const seen = new Set<string>();
  const walk = (spec: MessageSpec, schema: Schema): void => {
    if (seen.has(spec.name)) return;
    seen.add(spec.name);
    const properties = resolveSchema(schemas, schema).properties ?? {};
    for (const field of spec.fields) {
      const child = field.kind === 'message' ? messages.get(field.type) : undefined;
      if (field.jsonName === '') {
        seen.delete(child?.name ?? '');
        if (child !== undefined) walk(child, schema);
        continue;
      }
      const property = properties[field.jsonName];
      if (property === undefined) missing.add(`${spec.name}.${field.jsonName}`);
      else if (child !== undefined) {
        const resolved = resolveSchema(schemas, property);
        const element = field.cardinality === 'repeated' ? resolved.items : field.cardinality === 'map' ? resolved.additionalProperties : property;
        if (typeof element === 'object') walk(child, element);
      }
    }
  };
  const roots: [string, string, string, string][] = [
    ['', 'v1', 'Namespace', 'core.Namespace'], ['', 'v1', 'ConfigMap', 'core.ConfigMap'], ['', 'v1', 'Secret', 'core.Secret'],
    ['', 'v1', 'Service', 'core.Service'], ['', 'v1', 'ServiceAccount', 'core.ServiceAccount'], ['', 'v1', 'Pod', 'core.Pod'],
    ['', 'v1', 'Node', 'core.Node'], ['', 'v1', 'Event', 'core.Event'], ['', 'v1', 'Endpoints', 'core.Endpoints'],
    ['apps', 'v1', 'Deployment', 'apps.Deployment'], ['apps', 'v1', 'ReplicaSet', 'apps.ReplicaSet'],
    ['coordination.k8s.io', 'v1', 'Lease', 'coordination.Lease'], ['discovery.k8s.io', 'v1', 'EndpointSlice', 'discovery.EndpointSlice'],
    ['scheduling.k8s.io', 'v1', 'PriorityClass', 'scheduling.PriorityClass'],
  ];
  for (const [group, version, kind, message] of roots) {
    const name = schemaNameOf(schemas, { group, version, kind });
    const schema = name === undefined ? undefined : schemas.byName.get(name);
    const spec = messages.get(message);
    if (schema === undefined || spec === undefined) throw new Error(`no schema or message for ${kind}`);
    walk(spec, schema);
  }
  return [...missing].sort();
}

describe('message tables against the served OpenAPI schemas', () => {
  it('use the JSON names the schemas use, apart from fields newer than the schemas', () => {
    // Kubernetes 1.31 and 1.32 additions; a misspelt name in the tables would show up here too.
    expect(fieldsMissingFromSchemas(builtInMessages(), servedSchemas())).toEqual([
      'coordination.LeaseSpec.preferredHolder',
      'coordination.LeaseSpec.strategy',
      'core.ContainerStatus.allocatedResourcesStatus',
      'core.ContainerStatus.user',
      'core.NodeRuntimeHandlerFeatures.userNamespaces',
      'core.NodeStatus.features',
      'core.PodResourceClaim.resourceClaimName',
      'core.PodResourceClaim.resourceClaimTemplateName',
      'core.PodSecurityContext.seLinuxChangePolicy',
      'core.PodSecurityContext.supplementalGroupsPolicy',
      'core.PodSpec.resources',
      'core.ResourceClaim.request',
      'core.VolumeSource.image',
    ]);
  });
});
