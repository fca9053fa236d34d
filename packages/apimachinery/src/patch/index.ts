/**
 * The four PATCH types kube-apiserver accepts, as pure functions over JSON objects:
 * - `applyJsonPatch`: application/json-patch+json (RFC 6902)
 * - `applyMergePatch`: application/merge-patch+json (RFC 7386)
 * - `applyStrategicMergePatch`: application/strategic-merge-patch+json, with the per-kind
 *   list strategies of `PATCH_STRATEGIES`
 * - `serverSideApply` / `recordUpdate`: application/apply-patch+yaml and the managedFields
 *   bookkeeping of every other write
 * Failures are thrown as `ApiError`s carrying the Status kube-apiserver answers with.
 */
export { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './json_patch.js';
export { applyMergePatch } from './merge_patch.js';
export { applyStrategicMergePatch } from './strategic_merge_patch.js';
export { PATCH_STRATEGIES, strategiesFor, type FieldStrategy, type StructStrategy } from './patch_strategies.js';
export { serverSideApply, recordUpdate, BEFORE_FIRST_APPLY, type ApplyResult, type ApplyConflict } from './server_side_apply.js';
export type { ManagedFieldsEntry } from './managed_fields.js';
export { cloneJson } from './json_values.js';
