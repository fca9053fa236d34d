import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import { FIELD_DOCS } from './descriptions.js';
import { AGE_COLUMN, NAME_COLUMN, column } from './format.js';
import { timeSince } from './human_duration.js';
import type { Printer, TableCell } from './types.js';

const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';
const LEGACY_ROLE_LABEL = 'kubernetes.io/role';

/** NAME STATUS ROLES AGE VERSION | wide: INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME */
export const nodePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    AGE_COLUMN,
    column('Version', 'string', FIELD_DOCS.kubeletVersion),
    column('Internal-IP', 'string', FIELD_DOCS.nodeAddresses, { wide: true }),
    column('External-IP', 'string', FIELD_DOCS.nodeAddresses, { wide: true }),
    column('OS-Image', 'string', FIELD_DOCS.osImage, { wide: true }),
    column('Kernel-Version', 'string', FIELD_DOCS.kernelVersion, { wide: true }),
    column('Container-Runtime', 'string', FIELD_DOCS.containerRuntimeVersion, { wide: true }),
  ],
  cells: (object, now) => nodeCells(object as Node, now),
};

function nodeCells(node: Node, now: Date): TableCell[] {
  const info = node.status?.nodeInfo;
  const roles = nodeRoles(node).join(',');
  return [
    node.metadata?.name ?? '',
    nodeStatus(node),
    roles === '' ? '<none>' : roles,
    timeSince(node.metadata?.creationTimestamp, now),
    info?.kubeletVersion ?? '',
    nodeAddress(node, 'InternalIP'),
    nodeAddress(node, 'ExternalIP'),
    orUnknown(info?.osImage),
    orUnknown(info?.kernelVersion),
    orUnknown(info?.containerRuntimeVersion),
  ];
}

/** "Ready", "NotReady" or "Unknown" (no Ready condition), then ",SchedulingDisabled" when cordoned. */
export function nodeStatus(node: Node): string {
  const conditions = new Map<string, NodeCondition>();
  for (const condition of node.status?.conditions ?? []) conditions.set(condition.type, condition);
  const ready = conditions.get('Ready');
  const status = [ready === undefined ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady'];
  if (node.spec?.unschedulable === true) status.push('SchedulingDisabled');
  return status.join(',');
}

/** Roles from `node-role.kubernetes.io/<role>` label keys and the `kubernetes.io/role` value, sorted. */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata?.labels ?? {})) {
    if (key.startsWith(ROLE_LABEL_PREFIX)) {
      const role = key.slice(ROLE_LABEL_PREFIX.length);
      if (role !== '') roles.add(role);
    } else if (key === LEGACY_ROLE_LABEL && value !== '') {
      roles.add(value);
    }
  }
  return [...roles].sort();
}

function nodeAddress(node: Node, type: string): string {
  return node.status?.addresses?.find((address) => address.type === type)?.address ?? '<none>';
}

function orUnknown(value: string | undefined): string {
  return value === undefined || value === '' ? '<unknown>' : value;
}
