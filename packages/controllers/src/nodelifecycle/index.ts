/** The node lifecycle controller: its descriptor for the controller manager. */
import type { ControllerDescriptor } from '../framework/controller.js';
import { NodeLifecycleController } from './controller.js';

export const nodeLifecycleControllerDescriptor: ControllerDescriptor = {
  name: 'nodelifecycle',
  enabledByDefault: true,
  // Its loops have fixed sizes, as upstream (no --concurrent-* flag).
  defaultWorkers: 1,
  create: (context) => new NodeLifecycleController(context),
};
