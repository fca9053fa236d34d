/**
 * @k8ts/controllers: kube-controller-manager's reconcile loops, tested without processes. The
 * contract every controller keeps is at the top of framework/controller.ts; `CONTROLLERS` lists them
 * by the names `--controllers` takes.
 */
export {
  DEFAULT_CONTROLLER_MANAGER_OPTIONS,
  type Controller,
  type ControllerContext,
  type ControllerDescriptor,
  type ControllerManagerOptions,
} from './framework/controller.js';
export { enabledControllers } from './framework/enabled.js';
export { runWorkers } from './framework/run_workers.js';
export { CONTROLLERS } from './registry.js';
