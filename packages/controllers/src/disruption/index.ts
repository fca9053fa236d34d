/** The disruption controller: its descriptor for the controller manager. */
import type { ControllerDescriptor } from '../framework/controller.js';
import { DisruptionController } from './controller.js';

export const disruptionControllerDescriptor: ControllerDescriptor = {
  name: 'disruption',
  enabledByDefault: true,
  // One worker, as upstream (no --concurrent-* flag).
  defaultWorkers: 1,
  create: (context) => new DisruptionController(context, 1),
};
