import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { ResourceType } from '../resources.js';
import { apiVersionOf } from '../resources.js';
import { eventPrinter } from './event.js';
import { metadataOf } from './format.js';
import { endpointSlicePrinter, endpointsPrinter, servicePrinter } from './network.js';
import { nodePrinter } from './node.js';
import { podPrinter } from './pod.js';
import { podDisruptionBudgetPrinter } from './policy.js';
import {
  configMapPrinter,
  defaultPrinter,
  leasePrinter,
  namespacePrinter,
  priorityClassPrinter,
  secretPrinter,
  serviceAccountPrinter,
} from './simple.js';
import type { IncludeObject, PartialObjectMetadata, Printer, Table, TableListMeta, TableRow, ToTableOptions } from './types.js';
import { deploymentPrinter, replicaSetPrinter } from './workloads.js';

/** Printers by "group/resource" ("/pods", "apps/deployments"). */
const PRINTERS: ReadonlyMap<string, Printer> = new Map([
  ['/pods', podPrinter],
  ['/nodes', nodePrinter],
  ['/services', servicePrinter],
  ['/endpoints', endpointsPrinter],
  ['/events', eventPrinter],
  ['/namespaces', namespacePrinter],
  ['/configmaps', configMapPrinter],
  ['/secrets', secretPrinter],
  ['/serviceaccounts', serviceAccountPrinter],
  ['coordination.k8s.io/leases', leasePrinter],
  ['apps/deployments', deploymentPrinter],
  ['apps/replicasets', replicaSetPrinter],
  ['discovery.k8s.io/endpointslices', endpointSlicePrinter],
  ['scheduling.k8s.io/priorityclasses', priorityClassPrinter],
  ['policy/poddisruptionbudgets', podDisruptionBudgetPrinter],
]);

/** The printer for a resource: its own, or NAME AGE. */
export function printerFor(type: Pick<ResourceType, 'group' | 'resource'>): Printer {
  return PRINTERS.get(`${type.group}/${type.resource}`) ?? defaultPrinter;
}

/**
 * Objects of one resource as a meta.k8s.io/v1 Table, as kube-apiserver's table convertor gives it to
 * kubectl: every column (wide ones too), one row per object, each row embedding what `includeObject`
 * asks for. Objects are trusted to be stored objects of that resource.
 */
export function toTable(type: ResourceType, objects: readonly object[], options: ToTableOptions): Table {
  const printer = printerFor(type);
  const rows = objects.map((object) => toRow(type, printer, object, options));
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta(options.listMeta),
    columnDefinitions: printer.columns.map((definition) => ({ ...definition })),
    rows,
  };
}

function toRow(type: ResourceType, printer: Printer, object: object, options: ToTableOptions): TableRow {
  const cells = printer.cells(object, options.now);
  if (cells.length !== printer.columns.length) {
    throw new Error(`table for ${type.resource}: ${cells.length} cells for ${printer.columns.length} columns`);
  }
  const row: TableRow = { cells };
  const conditions = printer.conditions?.(object);
  if (conditions !== undefined) row.conditions = conditions;
  const embedded = embeddedObject(type, object, options.includeObject);
  if (embedded !== undefined) row.object = embedded;
  return row;
}

function embeddedObject(type: ResourceType, object: object, includeObject: IncludeObject): object | undefined {
  switch (includeObject) {
    case 'None':
      return undefined;
    case 'Metadata':
      return partialObjectMetadata(metadataOf(object));
    case 'Object':
      return { apiVersion: apiVersionOf(type), kind: type.kind, ...object };
  }
}

export function partialObjectMetadata(metadata: ObjectMeta): PartialObjectMetadata {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata };
}

/** Only the fields that are set, as Go's omitempty writes them. */
function listMeta(meta: TableListMeta | undefined): TableListMeta {
  const result: TableListMeta = {};
  if (meta?.resourceVersion !== undefined && meta.resourceVersion !== '') result.resourceVersion = meta.resourceVersion;
  if (meta?.continue !== undefined && meta.continue !== '') result.continue = meta.continue;
  if (meta?.remainingItemCount !== undefined) result.remainingItemCount = meta.remainingItemCount;
  return result;
}
