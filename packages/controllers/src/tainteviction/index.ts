/**
 * The taint eviction controller: its descriptor. Upstream 1.32 runs it as a controller of its own
 * ("taint-eviction-controller"), apart from node lifecycle, which only writes the taints.
 */
import { workersFor, type ControllerDescriptor } from '../framework/controller.js';
import { TaintEvictionController, TAINT_EVICTION_CONTROLLER } from './controller.js';

export const taintEvictionControllerDescriptor: ControllerDescriptor = {
  name: TAINT_EVICTION_CONTROLLER,
  enabledByDefault: true,
  defaultWorkers: 8,
  create: (context) => new TaintEvictionController(context, workersFor(context, taintEvictionControllerDescriptor)),
};
