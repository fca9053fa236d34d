/**
 * Kubernetes API rules with no I/O, shared by the API server and the components:
 * - `resources`: the served resources (discovery, paths, short names, subresources).
 * - `errors`: kube-apiserver's Status errors and field errors.
 * - `table`: server-side table output (what `kubectl get` prints).
 * - `openapi`: OpenAPI v3 documents and the unknown-field check, from schemas generated from kubernetes-types.
 * - label and field selectors, quantities, metav1.Time, taints and tolerations, validation and defaulting as
 *   Kubernetes does them.
 * - `patch`: JSON, merge, strategic merge patches and server-side apply.
 * - `protobuf`: decoding the Kubernetes protobuf bodies kubectl's typed clients send.
 */
export * from './resources.js';
export * from './errors.js';
export * from './table/index.js';
export * from './openapi/index.js';
export * from './labels.js';
export * from './fields.js';
export * from './quantity.js';
export * from './time.js';
export * from './taints.js';
export * from './disruption.js';
export * from './patch/index.js';
export { applyDefaults, pullPolicyFor } from './defaults.js';
export {
  validateObject,
  validateObjectMeta,
  validateObjectMetaUpdate,
  validateLabels,
  validateAnnotations,
  validateLabelSelector,
  validatePodSpec,
  validatePodTemplateSpec,
  validateServiceClusterIPs,
  isIpAddress,
  goStrings,
  HIGHEST_USER_DEFINABLE_PRIORITY,
  SYSTEM_CRITICAL_PRIORITY,
  SYSTEM_PRIORITY_CLASSES,
  SYSTEM_PRIORITY_CLASS_PREFIX,
  type GoValueFieldError,
  type SystemPriorityClass,
} from './validation/index.js';
export * from './protobuf/index.js';
