/** The ReplicaSet controller: its descriptor for the controller manager. */
import { workersFor, type ControllerDescriptor } from '../framework/controller.js';
import { ReplicaSetController } from './controller.js';

export const replicaSetControllerDescriptor: ControllerDescriptor = {
  name: 'replicaset',
  enabledByDefault: true,
  defaultWorkers: 5,
  concurrencyFlag: 'concurrent-replicaset-syncs',
  create: (context) => new ReplicaSetController(context, workersFor(context, replicaSetControllerDescriptor)),
};
