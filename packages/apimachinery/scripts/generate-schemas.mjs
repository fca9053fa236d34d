#!/usr/bin/env node
// Writes generated/schemas.json: OpenAPI v3 component schemas for the served API groups, read from the
// `kubernetes-types` declaration files with the TypeScript parser (syntax only: no type checker, so it
// runs in well under a second). Names, shapes and extensions follow kube-apiserver's own documents.
//
//   node packages/apimachinery/scripts/generate-schemas.mjs
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(packageRoot, '..', '..', 'package.json'));
const ts = require('typescript');
const typesRoot = dirname(createRequire(join(packageRoot, 'package.json')).resolve('kubernetes-types/package.json'));
const outputPath = join(packageRoot, 'generated', 'schemas.json');

/** Declaration files to read (module path under kubernetes-types → upstream schema name prefix). */
const MODULES = {
  'core/v1': 'io.k8s.api.core.v1',
  'apps/v1': 'io.k8s.api.apps.v1',
  'coordination/v1': 'io.k8s.api.coordination.v1',
  'discovery/v1': 'io.k8s.api.discovery.v1',
  'scheduling/v1': 'io.k8s.api.scheduling.v1',
  'policy/v1': 'io.k8s.api.policy.v1',
  'autoscaling/v1': 'io.k8s.api.autoscaling.v1', // Scale, for the scale subresource
  'meta/v1': 'io.k8s.apimachinery.pkg.apis.meta.v1',
  'api/resource': 'io.k8s.apimachinery.pkg.api.resource',
  runtime: 'io.k8s.apimachinery.pkg.runtime',
};

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** Schemas for the named aliases kubernetes-types flattens to `string`, as upstream types them. */
const ALIASES = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
};

/** Integer fields that are int64 upstream (kubernetes-types says only `number`); the rest are int32. */
const INT64_FIELDS = new Set([
  'activeDeadlineSeconds', 'deletionGracePeriodSeconds', 'expirationSeconds', 'fsGroup', 'generation',
  'gracePeriodSeconds', 'limitBytes', 'observedGeneration', 'remainingItemCount', 'revision', 'runAsGroup',
  'runAsUser', 'seconds', 'sinceSeconds', 'supplementalGroups', 'tailLines', 'terminationGracePeriodSeconds',
]);

/**
 * Strategic-merge-patch rules of list and struct fields (Go struct tags upstream, absent from the
 * declarations): kubectl reads them from the OpenAPI v3 document to compute apply patches.
 * "<schema name>.<field>": [strategy, merge key].
 */
const PATCH_RULES = {
  'io.k8s.api.core.v1.PodSpec.containers': ['merge', 'name'],
  'io.k8s.api.core.v1.PodSpec.initContainers': ['merge', 'name'],
  'io.k8s.api.core.v1.PodSpec.ephemeralContainers': ['merge', 'name'],
  'io.k8s.api.core.v1.PodSpec.volumes': ['merge,retainKeys', 'name'],
  'io.k8s.api.core.v1.PodSpec.imagePullSecrets': ['merge', 'name'],
  'io.k8s.api.core.v1.PodSpec.hostAliases': ['merge', 'ip'],
  'io.k8s.api.core.v1.PodSpec.topologySpreadConstraints': ['merge', 'topologyKey'],
  'io.k8s.api.core.v1.PodSpec.schedulingGates': ['merge', 'name'],
  'io.k8s.api.core.v1.PodSpec.resourceClaims': ['merge,retainKeys', 'name'],
  'io.k8s.api.core.v1.Container.ports': ['merge', 'containerPort'],
  'io.k8s.api.core.v1.Container.env': ['merge', 'name'],
  'io.k8s.api.core.v1.Container.volumeMounts': ['merge', 'mountPath'],
  'io.k8s.api.core.v1.Container.volumeDevices': ['merge', 'devicePath'],
  'io.k8s.api.core.v1.EphemeralContainer.ports': ['merge', 'containerPort'],
  'io.k8s.api.core.v1.EphemeralContainer.env': ['merge', 'name'],
  'io.k8s.api.core.v1.EphemeralContainer.volumeMounts': ['merge', 'mountPath'],
  'io.k8s.api.core.v1.EphemeralContainer.volumeDevices': ['merge', 'devicePath'],
  'io.k8s.api.core.v1.PodStatus.conditions': ['merge', 'type'],
  'io.k8s.api.core.v1.PodStatus.podIPs': ['merge', 'ip'],
  'io.k8s.api.core.v1.PodStatus.hostIPs': ['merge', 'ip'],
  'io.k8s.api.core.v1.NodeSpec.podCIDRs': ['merge', undefined],
  'io.k8s.api.core.v1.NodeStatus.conditions': ['merge', 'type'],
  'io.k8s.api.core.v1.NodeStatus.addresses': ['merge', 'type'],
  'io.k8s.api.core.v1.NamespaceStatus.conditions': ['merge', 'type'],
  'io.k8s.api.core.v1.ServiceSpec.ports': ['merge', 'port'],
  'io.k8s.api.core.v1.ServiceStatus.conditions': ['merge', 'type'],
  'io.k8s.api.core.v1.ServiceAccount.secrets': ['merge', 'name'],
  'io.k8s.api.apps.v1.DeploymentSpec.strategy': ['retainKeys', undefined],
  'io.k8s.api.apps.v1.DeploymentStatus.conditions': ['merge', 'type'],
  'io.k8s.api.apps.v1.ReplicaSetStatus.conditions': ['merge', 'type'],
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta.finalizers': ['merge', undefined],
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta.ownerReferences': ['merge', 'uid'],
};

/** The doc comment written just before a node, without its comment markers. */
function docComment(node, text) {
  const ranges = ts.getLeadingCommentRanges(text, node.pos) ?? [];
  const last = ranges.filter((range) => text.startsWith('/**', range.pos)).at(-1);
  if (last === undefined) return undefined;
  const body = text.slice(last.pos + 3, last.end - 2);
  const lines = body.split('\n').map((line) => line.replace(/^\s*\* ?/, '').trimEnd());
  return lines.join('\n').trim() || undefined;
}

/** Maps each imported name of a file to the module path it comes from ("../meta/v1" → "meta/v1"). */
function importsOf(file, modulePath) {
  const names = new Map();
  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement)) continue;
    const target = join(dirname(modulePath), statement.moduleSpecifier.text);
    for (const element of statement.importClause?.namedBindings?.elements ?? []) names.set(element.name.text, target);
  }
  return names;
}

function referenceSchema(name, description) {
  const ref = { $ref: `#/components/schemas/${name}` };
  return description === undefined ? ref : { description, allOf: [ref] };
}

/** The schema of one property's type node. */
function typeSchema(node, context, fieldName) {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { type: 'string' };
    case ts.SyntaxKind.BooleanKeyword:
      return { type: 'boolean' };
    case ts.SyntaxKind.NumberKeyword:
      return { type: 'integer', format: INT64_FIELDS.has(fieldName) ? 'int64' : 'int32' };
    case ts.SyntaxKind.LiteralType:
      return { type: 'string' }; // apiVersion and kind literals
    case ts.SyntaxKind.ArrayType:
      return { type: 'array', items: typeSchema(node.elementType, context, fieldName) };
    case ts.SyntaxKind.UnionType:
      return unionSchema(node, context);
    case ts.SyntaxKind.TypeLiteral:
      return mapSchema(node, context, fieldName);
    case ts.SyntaxKind.TypeReference:
      return referenceTypeSchema(node, context, fieldName);
    default:
      throw new Error(`${context.modulePath}: unsupported type ${ts.SyntaxKind[node.kind]} for ${fieldName}`);
  }
}

function unionSchema(node, context) {
  const kinds = node.types.map((type) => type.kind).sort();
  if (kinds.join() === [ts.SyntaxKind.NumberKeyword, ts.SyntaxKind.StringKeyword].sort().join()) {
    context.used.add(INT_OR_STRING);
    return { $ref: `#/components/schemas/${INT_OR_STRING}` };
  }
  throw new Error(`${context.modulePath}: unsupported union ${node.getText(context.file)}`);
}

function mapSchema(node, context, fieldName) {
  const [member] = node.members;
  if (node.members.length !== 1 || member === undefined || !ts.isIndexSignatureDeclaration(member)) {
    throw new Error(`${context.modulePath}: unsupported type literal for ${fieldName}`);
  }
  return { type: 'object', additionalProperties: typeSchema(member.type, context, fieldName) };
}

function referenceTypeSchema(node, context, fieldName) {
  const name = node.typeName.getText(context.file);
  if (name === 'Array') return { type: 'array', items: typeSchema(node.typeArguments[0], context, fieldName) };
  const modulePath = context.imports.get(name) ?? context.modulePath;
  const prefix = MODULES[modulePath];
  if (prefix === undefined) throw new Error(`${context.modulePath}: ${name} comes from unread module ${modulePath}`);
  context.used.add(`${prefix}.${name}`);
  return { $ref: `#/components/schemas/${prefix}.${name}` };
}

/** `x-kubernetes-group-version-kind` from the `apiVersion` and `kind` literal types of a top-level kind. */
function groupVersionKind(declaration) {
  const literal = (name) => {
    const member = declaration.members.find((m) => m.name?.text === name);
    return member?.type && ts.isLiteralTypeNode(member.type) ? member.type.literal.text : undefined;
  };
  const apiVersion = literal('apiVersion');
  const kind = literal('kind');
  if (apiVersion === undefined || kind === undefined) return undefined;
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return [{ group, kind, version }];
}

function patchRule(schemaName, field, context) {
  const rule = PATCH_RULES[`${schemaName}.${field}`];
  if (rule === undefined) return {};
  context.patchRulesUsed.add(`${schemaName}.${field}`);
  return { 'x-kubernetes-patch-merge-key': rule[1], 'x-kubernetes-patch-strategy': rule[0] };
}

function interfaceSchema(declaration, context) {
  const schemaName = `${MODULES[context.modulePath]}.${declaration.name.text}`;
  const properties = {};
  const required = [];
  for (const member of declaration.members) {
    if (!ts.isPropertySignature(member) || member.type === undefined) continue;
    const name = member.name.text;
    const description = docComment(member, context.text);
    const schema = typeSchema(member.type, context, name);
    const property = schema.$ref === undefined ? { description, ...schema } : referenceSchema(schema.$ref.split('/').at(-1), description);
    properties[name] = { ...property, ...patchRule(schemaName, name, context) };
    if (member.questionToken === undefined) required.push(name);
  }
  // An empty interface is free-form JSON upstream (RawExtension, FieldsV1): no `properties` at all.
  const schema = { description: docComment(declaration, context.text), type: 'object' };
  if (Object.keys(properties).length > 0) schema.properties = properties;
  if (required.length > 0) schema.required = required;
  const gvk = groupVersionKind(declaration);
  if (gvk !== undefined) schema['x-kubernetes-group-version-kind'] = gvk;
  return schema;
}

function readModule(modulePath, schemas, used, patchRulesUsed) {
  const filePath = join(typesRoot, `${modulePath}.d.ts`);
  const text = readFileSync(filePath, 'utf8');
  const file = ts.createSourceFile(filePath, text, ts.ScriptTarget.Latest, true);
  const context = { file, text, modulePath, imports: importsOf(file, modulePath), used, patchRulesUsed };
  for (const statement of file.statements) {
    const name = `${MODULES[modulePath]}.${statement.name?.text}`;
    if (ts.isInterfaceDeclaration(statement)) schemas[name] = interfaceSchema(statement, context);
    if (ts.isTypeAliasDeclaration(statement) && ALIASES[name] !== undefined) {
      schemas[name] = { description: docComment(statement, text), ...ALIASES[name] };
    }
  }
}

function intOrStringSchema() {
  return {
    description:
      'IntOrString is a type that can hold an int32 or a string. In JSON or YAML it is written as the inner value: ' +
      'a field of this type accepts a number or a name (such as a port number or a port name).',
    format: 'int-or-string',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
  };
}

/** Drops undefined descriptions so the JSON stays compact; checks that every $ref has a schema. */
function finish(schemas, used, patchRulesUsed) {
  const missing = [...used].filter((name) => schemas[name] === undefined);
  if (missing.length > 0) throw new Error(`schemas referenced but not generated: ${missing.join(', ')}`);
  const unusedRules = Object.keys(PATCH_RULES).filter((field) => !patchRulesUsed.has(field));
  if (unusedRules.length > 0) throw new Error(`patch rules for fields that do not exist: ${unusedRules.join(', ')}`);
  const sorted = {};
  for (const name of Object.keys(schemas).sort()) sorted[name] = schemas[name];
  return JSON.stringify({ schemas: sorted }, (_key, value) => (value === undefined ? undefined : value));
}

function main() {
  const started = performance.now();
  const schemas = { [INT_OR_STRING]: intOrStringSchema() };
  const used = new Set();
  const patchRulesUsed = new Set();
  for (const modulePath of Object.keys(MODULES)) readModule(modulePath, schemas, used, patchRulesUsed);
  const json = finish(schemas, used, patchRulesUsed);
  mkdirSync(dirname(outputPath), { recursive: true });
  writeFileSync(outputPath, `${json}\n`);
  const kinds = Object.values(schemas).filter((schema) => schema['x-kubernetes-group-version-kind']).length;
  const elapsedMs = Math.round(performance.now() - started);
  console.log(
    `generate-schemas: wrote ${relative(process.cwd(), outputPath) || outputPath}: ${Object.keys(schemas).length} schemas ` +
      `(${kinds} kinds), ${Math.round(json.length / 1024)} KiB, in ${elapsedMs} ms`,
  );
}

main();
