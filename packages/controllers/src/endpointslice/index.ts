import { workersFor, type ControllerDescriptor } from '../framework/controller.js';
import { EndpointSliceController } from './controller.js';

/** kube-controller-manager's "endpointslice" controller: discovery.k8s.io/v1 EndpointSlices of selector Services. */
export const endpointSliceControllerDescriptor: ControllerDescriptor = {
  name: 'endpointslice',
  enabledByDefault: true,
  defaultWorkers: 5,
  concurrencyFlag: 'concurrent-service-endpoint-syncs',
  create: (context) => new EndpointSliceController(context, workersFor(context, endpointSliceControllerDescriptor)),
};
