/** The Deployment controller: its descriptor for the controller manager. */
import { workersFor, type ControllerDescriptor } from '../framework/controller.js';
import { DeploymentController } from './controller.js';

export const deploymentControllerDescriptor: ControllerDescriptor = {
  name: 'deployment',
  enabledByDefault: true,
  defaultWorkers: 5,
  concurrencyFlag: 'concurrent-deployment-syncs',
  create: (context) => new DeploymentController(context, workersFor(context, deploymentControllerDescriptor)),
};
