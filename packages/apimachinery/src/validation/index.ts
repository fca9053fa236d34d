/**
 * Validation of served objects, as kube-apiserver runs it after defaulting: `validateObject(type,
 * object)` on create, `validateObject(type, object, old)` on update. An empty list means valid;
 * otherwise the handler answers `apiErrors.invalid(type, name, errors)` (422).
 *
 * Promises: pure (no I/O, no mutation of its arguments); paths and messages follow upstream 1.32
 * where the check exists there. Status subresource updates are not validated here.
 */
import type { FieldError } from '../errors.js';
import type { ResourceType } from '../resources.js';
import { validateDeployment, validateReplicaSet, validateWorkloadUpdate } from './apps.js';
import { validateNamespace, validateNode, validateNodeUpdate } from './cluster.js';
import { record } from './common.js';
import { validateConfigMap, validateConfigMapUpdate, validateSecret, validateSecretUpdate, validateServiceAccount } from './config.js';
import { validateEvent, validateLease } from './coordination.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { nameIsDnsSubdomain } from './names.js';
import { validatePod, validatePodUpdate } from './pods.js';
import { validatePodDisruptionBudget } from './policy.js';
import { validatePriorityClass, validatePriorityClassUpdate } from './scheduling.js';
import { validateEndpointSlice, validateEndpoints, validateService, validateServiceUpdate } from './services.js';

interface KindValidation {
  create(object: unknown): FieldError[];
  /** Defaults to the identity checks of metadata plus the create checks on the new object. */
  update?(object: unknown, old: unknown): FieldError[];
}

/** Keyed by "<group>/<resource>" ("/pods", "apps/deployments"). */
const VALIDATIONS: Readonly<Record<string, KindValidation>> = {
  '/pods': { create: validatePod, update: validatePodUpdate },
  '/services': { create: validateService, update: validateServiceUpdate },
  '/endpoints': { create: validateEndpoints },
  '/configmaps': { create: validateConfigMap, update: validateConfigMapUpdate },
  '/secrets': { create: validateSecret, update: validateSecretUpdate },
  '/serviceaccounts': { create: validateServiceAccount },
  '/namespaces': { create: validateNamespace },
  '/nodes': { create: validateNode, update: validateNodeUpdate },
  '/events': { create: validateEvent },
  'apps/deployments': {
    create: validateDeployment,
    update: (object, old) => validateWorkloadUpdate(object, old, validateDeployment),
  },
  'apps/replicasets': {
    create: validateReplicaSet,
    update: (object, old) => validateWorkloadUpdate(object, old, validateReplicaSet),
  },
  'coordination.k8s.io/leases': { create: validateLease },
  'discovery.k8s.io/endpointslices': { create: validateEndpointSlice },
  'scheduling.k8s.io/priorityclasses': { create: validatePriorityClass, update: validatePriorityClassUpdate },
  'policy/poddisruptionbudgets': { create: validatePodDisruptionBudget },
};

export function validateObject(type: ResourceType, object: unknown, old?: unknown): FieldError[] {
  const validation = VALIDATIONS[`${type.group}/${type.resource}`] ?? {
    create: (value: unknown) => validateObjectMeta(record(value)['metadata'], type.namespaced, nameIsDnsSubdomain),
  };
  if (old === undefined) return validation.create(object);
  if (validation.update !== undefined) return validation.update(object, old);
  return [...validateObjectMetaUpdate(record(object)['metadata'], record(old)['metadata']), ...validation.create(object)];
}

export { validateLabelSelector, validateLabels, validateAnnotations, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
export { validatePodSpec, validatePodTemplateSpec } from './pods.js';
export type { GoValueFieldError } from './common.js';
export { goStrings } from './common.js';
export { isIpAddress, validateServiceClusterIPs } from './services.js';
export * from './names.js';
export {
  HIGHEST_USER_DEFINABLE_PRIORITY,
  SYSTEM_CRITICAL_PRIORITY,
  SYSTEM_PRIORITY_CLASSES,
  SYSTEM_PRIORITY_CLASS_PREFIX,
  type SystemPriorityClass,
} from './scheduling.js';
