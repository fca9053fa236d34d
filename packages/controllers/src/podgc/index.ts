/** The pod garbage collector: its descriptor for the controller manager. */
import type { ControllerDescriptor } from '../framework/controller.js';
import { PodGcController } from './controller.js';

export const podGcControllerDescriptor: ControllerDescriptor = {
  name: 'podgc',
  enabledByDefault: true,
  // One pass at a time, as upstream (no --concurrent-* flag).
  defaultWorkers: 1,
  create: (context) => new PodGcController(context),
};
