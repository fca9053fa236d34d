import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

/**
 * meta.k8s.io/v1 Table, as kube-apiserver answers `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
 * kubernetes-types has no Table, so it is spelled out here.
 */
export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: TableListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface TableListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

/** One column. Priority 0 columns are always shown; kubectl shows priority 1 only with `-o wide`. */
export interface TableColumnDefinition {
  name: string;
  /** An OpenAPI type: "string", "integer", "number", "boolean" (or "date"). */
  type: string;
  /** An OpenAPI format hint; "name" marks the column holding the object's name. */
  format: string;
  description: string;
  priority: number;
}

export type TableCell = string | number | boolean;

export interface TableRow {
  /** One cell per column definition, in the same order. */
  cells: TableCell[];
  conditions?: TableRowCondition[];
  /** Absent for includeObject=None. */
  object?: PartialObjectMetadata | object;
}

/** Row conditions: upstream marks succeeded and failed pods `Completed`. */
export interface TableRowCondition {
  type: 'Completed';
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ObjectMeta;
}

/** What a client asked to be embedded in each row (`?includeObject=`); upstream's default is Metadata. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface ToTableOptions {
  /** The clock AGE and other "time since" cells are measured against. */
  now: Date;
  includeObject: IncludeObject;
  listMeta?: TableListMeta;
}

/**
 * How one resource prints: its columns and, per object, one cell per column. Like kube-apiserver's
 * table convertor, every column (wide ones included) always gets a cell; kubectl hides priority 1
 * columns unless `-o wide`.
 */
export interface Printer {
  readonly columns: readonly TableColumnDefinition[];
  cells(object: object, now: Date): TableCell[];
  conditions?(object: object): TableRowCondition[] | undefined;
}
