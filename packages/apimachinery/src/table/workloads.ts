import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { FIELD_DOCS } from './descriptions.js';
import {
  AGE_COLUMN,
  CONTAINERS_COLUMN,
  IMAGES_COLUMN,
  NAME_COLUMN,
  column,
  containerCells,
  formatLabelSelector,
  selectorString,
} from './format.js';
import { timeSince } from './human_duration.js';
import type { Printer, TableCell } from './types.js';

// Stored objects are defaulted, so spec.replicas is there; an absent one defaults to 1.
const DEFAULT_REPLICAS = 1;

/** NAME READY UP-TO-DATE AVAILABLE AGE | wide: CONTAINERS IMAGES SELECTOR */
export const deploymentPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'string', FIELD_DOCS.deploymentUpdatedReplicas),
    column('Available', 'string', FIELD_DOCS.deploymentAvailableReplicas),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    column('Selector', 'string', FIELD_DOCS.deploymentSelector, { wide: true }),
  ],
  cells: (object, now) => deploymentCells(object as Deployment, now),
};

function deploymentCells(deployment: Deployment, now: Date): TableCell[] {
  const status = deployment.status ?? {};
  const desired = deployment.spec?.replicas ?? DEFAULT_REPLICAS;
  // Unlike ReplicaSets, an empty selector prints as "" here (upstream uses selector.String()).
  const selector = selectorString(deployment.spec?.selector) ?? '<invalid>';
  return [
    deployment.metadata?.name ?? '',
    `${status.readyReplicas ?? 0}/${desired}`,
    status.updatedReplicas ?? 0,
    status.availableReplicas ?? 0,
    timeSince(deployment.metadata?.creationTimestamp, now),
    ...containerCells(deployment.spec?.template?.spec?.containers),
    selector,
  ];
}

/** NAME DESIRED CURRENT READY AGE | wide: CONTAINERS IMAGES SELECTOR */
export const replicaSetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'integer', FIELD_DOCS.replicaSetSpecReplicas),
    column('Current', 'integer', FIELD_DOCS.replicaSetStatusReplicas),
    column('Ready', 'integer', FIELD_DOCS.replicaSetReadyReplicas),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    column('Selector', 'string', FIELD_DOCS.replicaSetSelector, { wide: true }),
  ],
  cells: (object, now) => replicaSetCells(object as ReplicaSet, now),
};

function replicaSetCells(replicaSet: ReplicaSet, now: Date): TableCell[] {
  const status = replicaSet.status;
  return [
    replicaSet.metadata?.name ?? '',
    replicaSet.spec?.replicas ?? DEFAULT_REPLICAS,
    status?.replicas ?? 0,
    status?.readyReplicas ?? 0,
    timeSince(replicaSet.metadata?.creationTimestamp, now),
    ...containerCells(replicaSet.spec?.template?.spec?.containers),
    formatLabelSelector(replicaSet.spec?.selector),
  ];
}
