import { workersFor, type ControllerDescriptor } from '../framework/controller.js';
import { RootCaCertPublisher } from './controller.js';

/** kube-controller-manager's "root-ca-cert-publisher": the kube-root-ca.crt ConfigMap of every namespace (one worker, as upstream). */
export const rootCaCertPublisherDescriptor: ControllerDescriptor = {
  name: 'root-ca-cert-publisher',
  enabledByDefault: true,
  defaultWorkers: 1,
  create: (context) => new RootCaCertPublisher(context, workersFor(context, rootCaCertPublisherDescriptor)),
};
