import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { ConfigMap, Namespace, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { FIELD_DOCS } from './descriptions.js';
import { AGE_COLUMN, NAME_COLUMN, column, metadataOf } from './format.js';
import { timeSince } from './human_duration.js';
import type { Printer, TableCell } from './types.js';

/** Printers whose cells are the name, a few simple fields, and the age. */

function nameAndAge<T extends object>(middle: (object: T) => TableCell[], trailing?: (object: T) => TableCell[]) {
  return (object: object, now: Date): TableCell[] => {
    const metadata = metadataOf(object);
    const typed = object as T;
    return [metadata.name ?? '', ...middle(typed), timeSince(metadata.creationTimestamp, now), ...(trailing?.(typed) ?? [])];
  };
}

function keyCount(map: object | undefined): number {
  return Object.keys(map ?? {}).length;
}

/** NAME STATUS AGE */
export const namespacePrinter: Printer = {
  columns: [NAME_COLUMN, column('Status', 'string', 'The status of the namespace'), AGE_COLUMN],
  cells: nameAndAge<Namespace>((namespace) => [namespace.status?.phase ?? '']),
};

/** NAME DATA AGE: DATA counts data and binaryData keys. */
export const configMapPrinter: Printer = {
  columns: [NAME_COLUMN, column('Data', 'string', FIELD_DOCS.configMapData), AGE_COLUMN],
  cells: nameAndAge<ConfigMap>((configMap) => [keyCount(configMap.data) + keyCount(configMap.binaryData)]),
};

/** NAME TYPE DATA AGE */
export const secretPrinter: Printer = {
  columns: [NAME_COLUMN, column('Type', 'string', FIELD_DOCS.secretType), column('Data', 'string', FIELD_DOCS.secretData), AGE_COLUMN],
  cells: nameAndAge<Secret>((secret) => [secret.type ?? '', keyCount(secret.data)]),
};

/** NAME SECRETS AGE */
export const serviceAccountPrinter: Printer = {
  columns: [NAME_COLUMN, column('Secrets', 'string', FIELD_DOCS.serviceAccountSecrets), AGE_COLUMN],
  cells: nameAndAge<ServiceAccount>((account) => [account.secrets?.length ?? 0]),
};

/** NAME HOLDER AGE */
export const leasePrinter: Printer = {
  columns: [NAME_COLUMN, column('Holder', 'string', FIELD_DOCS.leaseHolderIdentity), AGE_COLUMN],
  cells: nameAndAge<Lease>((lease) => [lease.spec?.holderIdentity ?? '']),
};

/**
 * NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY. Upstream gives PreemptionPolicy priority 0 (so plain
 * `kubectl get` shows it) and fills it only for wide output, which server-side tables always are.
 */
export const priorityClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Value', 'integer', FIELD_DOCS.priorityClassValue),
    column('Global-Default', 'boolean', FIELD_DOCS.priorityClassGlobalDefault),
    AGE_COLUMN,
    column('PreemptionPolicy', 'string', FIELD_DOCS.priorityClassPreemptionPolicy),
  ],
  cells: nameAndAge<PriorityClass>(
    (priorityClass) => [priorityClass.value ?? 0, priorityClass.globalDefault ?? false],
    (priorityClass) => [priorityClass.preemptionPolicy ?? ''],
  ),
};

/** NAME AGE: for resources with no printer of their own. */
export const defaultPrinter: Printer = {
  columns: [NAME_COLUMN, AGE_COLUMN],
  cells: nameAndAge<object>(() => []),
};
