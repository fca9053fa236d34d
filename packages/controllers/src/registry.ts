import type { ControllerDescriptor } from './framework/controller.js';
import { garbageCollectorControllerDescriptor } from './garbagecollector/index.js';
import { namespaceControllerDescriptor } from './namespace/index.js';
import { replicaSetControllerDescriptor } from './replicaset/index.js';
import { deploymentControllerDescriptor } from './deployment/index.js';
import { endpointControllerDescriptor } from './endpoint/index.js';
import { endpointSliceControllerDescriptor } from './endpointslice/index.js';
import { serviceAccountControllerDescriptor } from './serviceaccount/index.js';
import { rootCaCertPublisherDescriptor } from './rootcacertpublisher/index.js';
import { nodeLifecycleControllerDescriptor } from './nodelifecycle/index.js';
import { taintEvictionControllerDescriptor } from './tainteviction/index.js';
import { nodeIpamControllerDescriptor } from './nodeipam/index.js';
import { podGcControllerDescriptor } from './podgc/index.js';
import { disruptionControllerDescriptor } from './disruption/index.js';

/**
 * Every controller the controller manager can run, by the name `--controllers` takes. Each folder
 * exports its descriptor; add one line here per controller.
 */
export const CONTROLLERS: readonly ControllerDescriptor[] = [
  garbageCollectorControllerDescriptor,
  namespaceControllerDescriptor,
  replicaSetControllerDescriptor,
  deploymentControllerDescriptor,
  endpointControllerDescriptor,
  endpointSliceControllerDescriptor,
  serviceAccountControllerDescriptor,
  rootCaCertPublisherDescriptor,
  nodeLifecycleControllerDescriptor,
  taintEvictionControllerDescriptor,
  nodeIpamControllerDescriptor,
  podGcControllerDescriptor,
  disruptionControllerDescriptor,
];
