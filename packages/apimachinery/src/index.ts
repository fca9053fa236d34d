/**
 * Kubernetes API rules with no I/O, shared by the API server and the components:
 * - `resources`: the served resources (discovery, paths, short names, subresources).
 * - `errors`: kube-apiserver's Status errors and field errors.
 */
export * from './resources.js';
export * from './errors.js';
