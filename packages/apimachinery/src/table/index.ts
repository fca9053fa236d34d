/**
 * Server-side table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): the columns and
 * cells kube-apiserver's printers give for each served resource, so `kubectl get` prints the same.
 */
export { toTable, printerFor, partialObjectMetadata } from './table.js';
export { humanDuration, timeSince } from './human_duration.js';
export { summarizePod } from './pod.js';
export type {
  IncludeObject,
  PartialObjectMetadata,
  Printer,
  Table,
  TableCell,
  TableColumnDefinition,
  TableListMeta,
  TableRow,
  TableRowCondition,
  ToTableOptions,
} from './types.js';
