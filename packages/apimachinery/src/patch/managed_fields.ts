import { FieldSet } from './field_set.js';
import { isJsonObject, type JsonObject } from './json_values.js';

/**
 * metadata.managedFields, read into field sets and written back as kube-apiserver writes them.
 * A manager is identified as upstream does: by name, operation, subresource and, for Update
 * entries only, apiVersion (so an applier keeps one entry whatever version it applies with).
 */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
  subresource?: string;
}

export interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string | undefined;
  subresource: string | undefined;
  fields: FieldSet;
}

export function managerId(manager: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify([manager.manager, manager.operation, manager.operation === 'Update' ? manager.apiVersion : '', manager.subresource ?? '']);
}

/** How upstream names a manager in a conflict: `"kubectl"`, or `"kube-controller-manager" using apps/v1`. */
export function describeManager(manager: Manager): string {
  let text = JSON.stringify(manager.manager);
  if (manager.subresource !== undefined) text += ` with subresource ${JSON.stringify(manager.subresource)}`;
  return manager.operation === 'Update' ? `${text} using ${manager.apiVersion}` : text;
}

export function readManagers(object: unknown): Manager[] {
  const metadata = isJsonObject(object) ? object['metadata'] : undefined;
  const entries = isJsonObject(metadata) ? metadata['managedFields'] : undefined;
  if (!Array.isArray(entries)) return [];
  return entries.filter(isJsonObject).map((entry) => ({
    manager: typeof entry['manager'] === 'string' ? entry['manager'] : '',
    operation: entry['operation'] === 'Apply' ? 'Apply' : 'Update',
    apiVersion: typeof entry['apiVersion'] === 'string' ? entry['apiVersion'] : '',
    time: typeof entry['time'] === 'string' ? entry['time'] : undefined,
    subresource: typeof entry['subresource'] === 'string' && entry['subresource'] !== '' ? entry['subresource'] : undefined,
    fields: FieldSet.fromFieldsV1(entry['fieldsV1']),
  }));
}

/**
 * Sets metadata.managedFields (or removes it when no manager owns anything), in upstream's order:
 * by operation (Apply before Update), then time, manager, apiVersion and subresource.
 */
export function writeManagers(object: JsonObject, managers: readonly Manager[]): JsonObject {
  const metadata = isJsonObject(object['metadata']) ? { ...object['metadata'] } : {};
  const kept = managers.filter((manager) => !manager.fields.isEmpty()).sort(compareManagers);
  if (kept.length === 0) delete metadata['managedFields'];
  else metadata['managedFields'] = kept.map(toEntry);
  return { ...object, metadata };
}

function toEntry(manager: Manager): ManagedFieldsEntry {
  return {
    manager: manager.manager,
    operation: manager.operation,
    apiVersion: manager.apiVersion,
    ...(manager.time === undefined ? {} : { time: manager.time }),
    fieldsType: 'FieldsV1',
    fieldsV1: manager.fields.toFieldsV1(),
    ...(manager.subresource === undefined ? {} : { subresource: manager.subresource }),
  };
}

function compareManagers(a: Manager, b: Manager): number {
  const seconds = (time: string | undefined): number => (time === undefined ? 0 : Math.floor(Date.parse(time) / 1000));
  return (
    compareText(a.operation, b.operation) ||
    seconds(a.time) - seconds(b.time) ||
    compareText(a.manager, b.manager) ||
    compareText(a.apiVersion, b.apiVersion) ||
    compareText(a.subresource ?? '', b.subresource ?? '')
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The fields no manager is said to own: identity and bookkeeping (upstream's stripMeta). */
export const IGNORED_FIELDS: FieldSet = (() => {
  const set = new FieldSet();
  set.insert(['f:apiVersion']);
  set.insert(['f:kind']);
  for (const name of ['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion']) {
    set.insert(['f:metadata', `f:${name}`]);
  }
  return set;
})();

export function withoutManagedFields(object: JsonObject): JsonObject {
  if (!isJsonObject(object['metadata']) || !('managedFields' in object['metadata'])) return object;
  const { managedFields: _dropped, ...metadata } = object['metadata'];
  return { ...object, metadata };
}
