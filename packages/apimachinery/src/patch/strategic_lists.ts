import { ApiError } from '../errors.js';
import { goFormat, isJsonObject, type JsonObject } from './json_values.js';
import { patchErrors } from './patch_errors.js';
import type { FieldStrategy, StructStrategy } from './patch_strategies.js';

/**
 * List merging for strategic merge patch, after k8s.io/apimachinery's strategicpatch: lists of
 * objects merge item by item on their merge key, lists of primitives are unioned, and the result
 * is ordered the way upstream orders it (patch order for the items the patch names, live order
 * for the rest, interleaved where both orders know the items; new items therefore come first).
 */
export type MergeMap = (original: JsonObject, patch: JsonObject, fields: StructStrategy | undefined) => JsonObject;

export const DIRECTIVE = '$patch';

/** The merged list, for a field whose strategy is merge; `isDeleteList` for $deleteFromPrimitiveList. */
export function mergeList(
  original: unknown[],
  patch: unknown[],
  strategy: FieldStrategy,
  isDeleteList: boolean,
  mergeMap: MergeMap,
): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const elementKind = sliceElementKind([original, patch]);
  if (elementKind !== 'object') {
    if (isDeleteList) return original.filter((item) => !patch.includes(item));
    const merged = [...new Set([...original, ...patch])];
    return normalizeElementOrder(merged, patch, original, undefined);
  }
  const mergeKey = strategy.merge?.mergeKey;
  if (mergeKey === undefined) throw patchErrors.internal('cannot merge lists without merge key');
  const special = applySpecialElements(original as JsonObject[], patch as JsonObject[], mergeKey);
  const merged = mergeItems([...special.original], special.patch, mergeKey, strategy.fields, mergeMap);
  return normalizeElementOrder(merged, special.patch, special.original, mergeKey);
}

type ElementKind = 'object' | 'string' | 'number' | 'boolean' | 'null';

/** Go's sliceElementType: one element type across the lists, never a list. */
export function sliceElementKind(lists: unknown[][]): ElementKind {
  let kind: ElementKind | undefined;
  for (const item of lists.flat()) {
    if (Array.isArray(item)) throw patchErrors.unprocessable('lists of lists are not supported');
    const itemKind: ElementKind = item === null ? 'null' : isJsonObject(item) ? 'object' : (typeof item as ElementKind);
    if (kind !== undefined && kind !== itemKind) {
      throw patchErrors.internal(`list element types are not identical: ${goFormat(lists)}`);
    }
    kind = itemKind;
  }
  if (kind === undefined) throw patchErrors.internal('no elements in any of the given slices');
  return kind;
}

export const noMergeKey = (item: JsonObject, mergeKey: string): ApiError =>
  patchErrors.internal(`map: ${goFormat(item)} does not contain declared merge key: ${mergeKey}`);

/** `$patch: delete` items remove their match, `$patch: replace` makes the rest of the patch the list. */
function applySpecialElements(original: JsonObject[], patch: JsonObject[], mergeKey: string): { original: JsonObject[]; patch: JsonObject[] } {
  const plain: JsonObject[] = [];
  let replace = false;
  let kept = original;
  for (const item of patch) {
    if (!(DIRECTIVE in item)) {
      plain.push(item);
      continue;
    }
    const directive = item[DIRECTIVE];
    if (directive === 'delete') {
      if (!(mergeKey in item)) throw noMergeKey(item, mergeKey);
      kept = kept.filter((candidate) => candidate[mergeKey] !== item[mergeKey]);
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw patchErrors.internal('merging lists cannot yet be specified in the patch');
    } else {
      throw patchErrors.internal(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(item)}`);
    }
  }
  return replace ? { original: plain, patch: [] } : { original: kept, patch: plain };
}

function mergeItems(
  original: JsonObject[],
  patch: JsonObject[],
  mergeKey: string,
  fields: StructStrategy | undefined,
  mergeMap: MergeMap,
): JsonObject[] {
  for (const item of patch) {
    if (!(mergeKey in item)) throw noMergeKey(item, mergeKey);
    const index = original.findIndex((candidate) => candidate[mergeKey] === item[mergeKey]);
    if (index >= 0) original[index] = mergeMap(original[index] as JsonObject, item, fields);
    else original.push(cleanNewValue(item) as JsonObject);
  }
  return original;
}

/**
 * Orders `merged`: the items `patchOrder` names in its order, the others in `serverOrder`'s,
 * interleaved by their live positions (upstream's normalizeElementOrder + mergeSortedSlice).
 */
export function normalizeElementOrder(merged: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string | undefined): unknown[] {
  const inPatch = (item: unknown): boolean => indexIn(patchOrder, item, mergeKey) >= 0;
  const patchItems = sortBy(merged.filter(inPatch), patchOrder, mergeKey);
  const serverOnly = sortBy(merged.filter((item) => !inPatch(item)), serverOrder, mergeKey);
  const result: unknown[] = [];
  let left = 0;
  let right = 0;
  while (left < serverOnly.length || right < patchItems.length) {
    if (right >= patchItems.length) result.push(serverOnly[left++]);
    else if (left >= serverOnly.length) result.push(patchItems[right++]);
    else {
      const serverIndex = indexIn(serverOrder, serverOnly[left], mergeKey);
      const patchIndex = indexIn(serverOrder, patchItems[right], mergeKey);
      // A server-only item goes first only when both are live and it was before.
      if (serverIndex >= 0 && patchIndex >= 0 && serverIndex < patchIndex) result.push(serverOnly[left++]);
      else result.push(patchItems[right++]);
    }
  }
  return result;
}

function sortBy(items: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const position = (item: unknown): number => indexIn(order, item, mergeKey);
  return items
    .map((item, index) => ({ item, index, rank: position(item) }))
    .sort((a, b) => (a.rank >= 0 && b.rank >= 0 ? a.rank - b.rank : 0) || a.index - b.index)
    .map(({ item }) => item);
}

function indexIn(list: unknown[], item: unknown, mergeKey: string | undefined): number {
  if (mergeKey === undefined) return list.indexOf(item);
  if (!isJsonObject(item)) return -1;
  return list.findIndex((candidate) => isJsonObject(candidate) && candidate[mergeKey] === item[mergeKey]);
}

/**
 * A patch value that lands where the live object had nothing: its nulls and directives dropped
 * (upstream's discardNullValuesFromPatch and removeDirectives, plus the directive keys its typed
 * decoding drops).
 */
export function cleanNewValue(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.filter((item) => !(isJsonObject(item) && DIRECTIVE in item)).map(cleanNewValue);
  }
  if (!isJsonObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, member] of Object.entries(value)) {
    if (member === null || key.startsWith('$')) continue;
    if (isJsonObject(member) && DIRECTIVE in member) continue;
    result[key] = cleanNewValue(member);
  }
  return result;
}

/** An atomic list set from a patch keeps its items but, like a typed decode, not their directive keys. */
export function withoutDirectiveKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDirectiveKeys);
  if (!isJsonObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, member] of Object.entries(value)) if (!key.startsWith('$')) result[key] = withoutDirectiveKeys(member);
  return result;
}
