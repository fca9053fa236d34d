import { workersFor, type ControllerDescriptor } from '../framework/controller.js';
import { GarbageCollectorController } from './controller.js';

/** `--controllers garbagecollector`, `--concurrent-gc-syncs` (20). */
export const garbageCollectorControllerDescriptor: ControllerDescriptor = {
  name: 'garbagecollector',
  enabledByDefault: true,
  defaultWorkers: 20,
  concurrencyFlag: 'concurrent-gc-syncs',
  create: (context) => new GarbageCollectorController(context, workersFor(context, garbageCollectorControllerDescriptor)),
};
