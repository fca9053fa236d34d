import type { ControllerDescriptor } from './framework/controller.js';
import { replicaSetControllerDescriptor } from './replicaset/index.js';

/**
 * Every controller the controller manager can run, by the name `--controllers` takes. Each folder
 * exports its descriptor; add one line here per controller.
 */
export const CONTROLLERS: readonly ControllerDescriptor[] = [
  replicaSetControllerDescriptor,
];
