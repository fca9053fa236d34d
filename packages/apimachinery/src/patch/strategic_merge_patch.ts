import { goUnmarshalKind } from '../openapi/typed_decode.js';
import { cloneJson, goFormat, isJsonObject, type JsonObject } from './json_values.js';
import { patchErrors } from './patch_errors.js';
import { fieldStrategy, strategiesFor, type StructStrategy } from './patch_strategies.js';
import {
  DIRECTIVE,
  cleanNewValue,
  mergeList,
  noMergeKey,
  normalizeElementOrder,
  sliceElementKind,
  withoutDirectiveKeys,
} from './strategic_lists.js';

const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';
const RETAIN_KEYS = '$retainKeys';

/**
 * Strategic merge patch (application/strategic-merge-patch+json) of an object of kind `typeKey`,
 * as kube-apiserver applies it (strategicpatch.StrategicMergeMapPatch): objects merge, lists merge
 * by the strategies of patch_strategies.ts or are replaced, null deletes, and the directives
 * `$patch` (replace|delete; `merge` is refused, as upstream does), `$deleteFromPrimitiveList/<field>`,
 * `$setElementOrder/<field>` and `$retainKeys` are honoured. Errors have upstream's status codes:
 * 400 for a malformed directive, 422 for lists of lists, 500 for the rest (as Go errors surface).
 * The inputs are never modified.
 */
export function applyStrategicMergePatch(document: unknown, patch: unknown, typeKey: string): unknown {
  if (patch === null) return cloneJson(document);
  if (!isJsonObject(patch)) {
    throw patchErrors.badRequest(`json: cannot unmarshal ${goUnmarshalKind(patch)} into Go value of type map[string]interface {}`);
  }
  const original = isJsonObject(document) ? cloneJson(document) : {};
  return mergeMap(original, cloneJson(patch), strategiesFor(typeKey));
}

function mergeMap(original: JsonObject, patch: JsonObject, fields: StructStrategy | undefined): JsonObject {
  if (DIRECTIVE in patch) return mapDirective(patch);
  applyRetainKeys(original, patch);
  applySetElementOrders(original, patch, fields);
  for (const [patchKey, value] of Object.entries(patch)) {
    const isDeleteList = patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST);
    const key = isDeleteList ? directiveField(patchKey, DELETE_FROM_PRIMITIVE_LIST) : patchKey;
    if (!isDeleteList && key.startsWith('$')) continue; // unknown directives: a typed decode drops them
    mergeField(original, key, value, fields, isDeleteList);
  }
  return original;
}

function mergeField(original: JsonObject, key: string, value: unknown, fields: StructStrategy | undefined, isDeleteList: boolean): void {
  if (value === null) {
    delete original[key];
    return;
  }
  const current = original[key];
  if (!(key in original) || kindOf(current) !== kindOf(value)) {
    if (isDeleteList) return;
    const cleaned = cleanNewValue(value);
    if (isJsonObject(value) && DIRECTIVE in value) delete original[key];
    else original[key] = cleaned;
    return;
  }
  const strategy = fieldStrategy(fields, key);
  if (isJsonObject(current) && isJsonObject(value)) {
    original[key] = mergeMap(current, value, strategy?.fields);
  } else if (Array.isArray(current) && Array.isArray(value)) {
    original[key] = strategy?.merge === undefined ? withoutDirectiveKeys(value) : mergeList(current, value, strategy, isDeleteList, mergeMap);
  } else {
    original[key] = value;
  }
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  return value === null ? 'null' : typeof value;
}

/** `$patch` in an object: replace it with the patch, or delete its contents. */
function mapDirective(patch: JsonObject): JsonObject {
  const directive = patch[DIRECTIVE];
  if (directive === 'replace') {
    delete patch[DIRECTIVE];
    return withoutDirectiveKeys(patch) as JsonObject;
  }
  if (directive === 'delete') return {};
  throw patchErrors.internal(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`);
}

/** "$deleteFromPrimitiveList/finalizers" → "finalizers" (upstream's extractKey). */
function directiveField(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw patchErrors.badRequest(
      prefix === SET_ELEMENT_ORDER ? 'invalid patch format of setElementOrder list' : 'invalid patch format of primitive list',
    );
  }
  return key.slice(slash + 1);
}

/** `$retainKeys`: the object keeps only the listed keys, and the patch may set no others. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!(RETAIN_KEYS in patch)) return;
  const retained = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retained)) throw patchErrors.badRequest('invalid patch format of retainKeys');
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!retained.includes(key)) throw patchErrors.badRequest('invalid patch format of retainKeys');
  }
  for (const key of Object.keys(original)) if (!retained.includes(key)) delete original[key];
}

/** `$setElementOrder/<field>`: merge that list now and order it as the directive says. */
function applySetElementOrders(original: JsonObject, patch: JsonObject, fields: StructStrategy | undefined): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[directiveKey];
    delete patch[directiveKey];
    if (!Array.isArray(order)) throw patchErrors.internal(`expected a slice, but received a ${kindOf(order)}`);
    const key = directiveField(directiveKey, SET_ELEMENT_ORDER);
    const originalList = listOrUndefined(original, key);
    const patchList = listOrUndefined(patch, key);
    const strategy = fieldStrategy(fields, key);
    const mergeKey = strategy?.merge?.mergeKey;
    validateOrder(patchList ?? [], order, mergeKey);
    let merged: unknown[];
    if (originalList === undefined && patchList === undefined) continue;
    if (patchList === undefined) merged = originalList ?? [];
    else if (originalList === undefined) merged = cleanNewValue(patchList) as unknown[];
    else merged = strategy?.merge === undefined ? patchList : mergeList(originalList, patchList, strategy, false, mergeMap);
    sliceElementKind([originalList ?? [], patchList ?? []]);
    original[key] = normalizeElementOrder(merged, order, originalList ?? [], mergeKey);
    delete patch[key];
  }
}

function listOrUndefined(object: JsonObject, key: string): unknown[] | undefined {
  if (!(key in object)) return undefined;
  const value = object[key];
  if (!Array.isArray(value)) throw patchErrors.internal(`expected a slice, but received a ${kindOf(value)}`);
  return value;
}

/** The patch list's items must appear in the directive's list, in the same relative order. */
function validateOrder(patchList: unknown[], order: unknown[], mergeKey: string | undefined): void {
  const items = patchList.filter((item) => !(isJsonObject(item) && item[DIRECTIVE] === 'delete'));
  let orderIndex = 0;
  for (const item of items) {
    if (isJsonObject(item) && DIRECTIVE in item) continue;
    while (orderIndex < order.length && !sameItem(item, order[orderIndex], mergeKey)) orderIndex++;
    if (orderIndex >= order.length) {
      throw patchErrors.internal(
        `the order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(order)}`,
      );
    }
    orderIndex++;
  }
}

function sameItem(left: unknown, right: unknown, mergeKey: string | undefined): boolean {
  if (mergeKey === undefined) return left === right;
  if (!isJsonObject(left) || !(mergeKey in left)) throw noMergeKey(isJsonObject(left) ? left : {}, mergeKey);
  if (!isJsonObject(right) || !(mergeKey in right)) throw noMergeKey(isJsonObject(right) ? right : {}, mergeKey);
  return left[mergeKey] === right[mergeKey];
}
