/** The node IPAM controller (range allocator): its descriptor for the controller manager. */
import { workersFor, type ControllerDescriptor } from '../framework/controller.js';
import { NodeIpamController } from './controller.js';

export const nodeIpamControllerDescriptor: ControllerDescriptor = {
  name: 'nodeipam',
  enabledByDefault: true,
  // Upstream's range allocator writes with 30 workers (cidrUpdateWorkers); no flag.
  defaultWorkers: 30,
  create: (context) => new NodeIpamController(context, workersFor(context, nodeIpamControllerDescriptor)),
};
