import { workersFor, type ControllerDescriptor } from '../framework/controller.js';
import { NamespaceController } from './controller.js';

/** `--controllers namespace`, `--concurrent-namespace-syncs` (10). */
export const namespaceControllerDescriptor: ControllerDescriptor = {
  name: 'namespace',
  enabledByDefault: true,
  defaultWorkers: 10,
  concurrencyFlag: 'concurrent-namespace-syncs',
  create: (context) => new NamespaceController(context, workersFor(context, namespaceControllerDescriptor)),
};
