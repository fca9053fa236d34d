import { workersFor, type ControllerDescriptor } from '../framework/controller.js';
import { EndpointController } from './controller.js';

/** kube-controller-manager's "endpoint" controller: Endpoints objects of selector Services. */
export const endpointControllerDescriptor: ControllerDescriptor = {
  name: 'endpoint',
  enabledByDefault: true,
  defaultWorkers: 5,
  concurrencyFlag: 'concurrent-endpoint-syncs',
  create: (context) => new EndpointController(context, workersFor(context, endpointControllerDescriptor)),
};
