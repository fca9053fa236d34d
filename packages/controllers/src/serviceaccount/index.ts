import { workersFor, type ControllerDescriptor } from '../framework/controller.js';
import { ServiceAccountsController } from './controller.js';

/** kube-controller-manager's "serviceaccount" controller: a `default` ServiceAccount in every namespace (one worker, as upstream). */
export const serviceAccountControllerDescriptor: ControllerDescriptor = {
  name: 'serviceaccount',
  enabledByDefault: true,
  defaultWorkers: 1,
  create: (context) => new ServiceAccountsController(context, workersFor(context, serviceAccountControllerDescriptor)),
};
