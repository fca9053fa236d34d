import { FieldSet, fieldElement, keyElement, valueElement } from './field_set.js';
import { cloneJson, isJsonObject, jsonEqual, type JsonObject } from './json_values.js';
import { patchErrors } from './patch_errors.js';
import { fieldStrategy, type FieldStrategy } from './patch_strategies.js';

/**
 * Objects seen as trees of owned fields, for server-side apply: which fields an object sets, how
 * two versions differ, how an applied configuration merges into a live object, and how a field is
 * removed. Objects are granular (field by field) unless their strategy is atomic; lists are
 * granular when patch_strategies.ts gives them a merge strategy (items by merge key, or a set of
 * primitives), and atomic otherwise.
 */
type Child = { element: string; value: unknown; strategy: FieldStrategy | undefined };

/** The children of a granular value, or undefined for a leaf (a scalar, null, or an atomic value). */
// `path` names the node only in the error: describing it for every node cost more than the walk.
function childrenOf(value: unknown, strategy: FieldStrategy | undefined, path: readonly string[]): Child[] | undefined {
  if (isJsonObject(value) && strategy?.atomic !== true) {
    return Object.entries(value).map(([name, member]) => ({
      element: fieldElement(name),
      value: member,
      strategy: fieldStrategy(strategy?.fields, name),
    }));
  }
  if (!Array.isArray(value) || strategy?.merge === undefined) return undefined;
  const mergeKey = strategy.merge.mergeKey;
  if (mergeKey === undefined) return value.map((item) => ({ element: valueElement(item), value: item, strategy: undefined }));
  const itemStrategy: FieldStrategy = strategy.fields === undefined ? {} : { fields: strategy.fields };
  return value.map((item, index) => {
    if (!isJsonObject(item) || !(mergeKey in item)) {
      throw patchErrors.internal(
        `${describe(path)}: element ${index}: associative list with keys has an element that omits key field ${JSON.stringify(mergeKey)} (and doesn't have default value)`,
      );
    }
    return { element: keyElement(mergeKey, item[mergeKey]), value: item, strategy: itemStrategy };
  });
}

const isListItem = (element: string): boolean => element.startsWith('k:') || element.startsWith('v:');
const describe = (path: readonly string[]): string => path.map((element) => `.${element.slice(2)}`).join('');

/** The fields an applied configuration sets (structured-merge-diff's ToFieldSet). */
export function fieldSetOf(value: unknown, strategy: FieldStrategy, path: string[] = [], set = new FieldSet()): FieldSet {
  for (const child of childrenOf(value, strategy, path) ?? []) {
    const childPath = [...path, child.element];
    const grandchildren = childrenOf(child.value, child.strategy, childPath);
    if (grandchildren === undefined) {
      set.insert(childPath);
      continue;
    }
    fieldSetOf(child.value, child.strategy ?? {}, childPath, set);
    // A list item is owned as a whole; an empty object would otherwise leave no trace.
    if (isListItem(child.element) || grandchildren.length === 0) set.insert(childPath);
  }
  return set;
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** How `after` differs from `before`, field by field (structured-merge-diff's Compare). */
export function compareObjects(before: unknown, after: unknown, strategy: FieldStrategy): Comparison {
  const result: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareNode(before, after, strategy, [], result);
  return result;
}

/**
 * `parents` says whether the parent exists on each side as Go would see it: an always-serialized
 * struct exists wherever its parent does, so it is added or removed only with its parent.
 */
function compareNode(
  before: unknown,
  after: unknown,
  strategy: FieldStrategy | undefined,
  path: string[],
  result: Comparison,
  parents: [boolean, boolean] = [true, true],
): void {
  const struct = strategy?.struct === true;
  const exists: [boolean, boolean] = [before !== undefined || (struct && parents[0]), after !== undefined || (struct && parents[1])];
  const beforeChildren = before === undefined ? [] : childrenOf(before, strategy, path);
  const afterChildren = after === undefined ? [] : childrenOf(after, strategy, path);
  if (beforeChildren === undefined || afterChildren === undefined || kind(before, after)) {
    if (before === undefined) result.added.insert(path);
    else if (after === undefined) result.removed.insert(path);
    else if (!jsonEqual(before, after)) result.modified.insert(path);
    return;
  }
  const beforeByElement = new Map(beforeChildren.map((child) => [child.element, child]));
  const afterByElement = new Map(afterChildren.map((child) => [child.element, child]));
  for (const element of new Set([...beforeByElement.keys(), ...afterByElement.keys()])) {
    const old = beforeByElement.get(element);
    const now = afterByElement.get(element);
    compareNode(old?.value, now?.value, (now ?? old)?.strategy, [...path, element], result, exists);
  }
  if (path.length === 0) return;
  if (!exists[0] && exists[1]) result.added.insert(path);
  if (exists[0] && !exists[1]) result.removed.insert(path);
}

/** True when both sides exist and one is an object where the other is a list (a type change). */
function kind(before: unknown, after: unknown): boolean {
  return before !== undefined && after !== undefined && Array.isArray(before) !== Array.isArray(after);
}

/** The applied configuration merged into the live object: applied values win, list items merge by key. */
export function mergeApplied(live: unknown, applied: unknown, strategy: FieldStrategy | undefined, path: string[] = []): unknown {
  if (applied === undefined) return live;
  if (live === undefined || applied === null) return cloneJson(applied);
  const liveChildren = childrenOf(live, strategy, path);
  const appliedChildren = childrenOf(applied, strategy, path);
  if (liveChildren === undefined || appliedChildren === undefined || kind(live, applied)) return cloneJson(applied);
  if (isJsonObject(live) && isJsonObject(applied)) {
    const merged: JsonObject = { ...live };
    for (const [name, value] of Object.entries(applied)) {
      const next = mergeApplied(live[name], value, fieldStrategy(strategy?.fields, name), [...path, fieldElement(name)]);
      if (next === null) delete merged[name];
      else merged[name] = next;
    }
    return merged;
  }
  return mergeItems(liveChildren, appliedChildren, (element, old, now) =>
    old === undefined ? cloneJson(now?.value) : mergeApplied(old.value, now?.value, old.strategy, [...path, element]),
  );
}

/**
 * structured-merge-diff's list merge: live-only items keep their places, items of the applied
 * list follow its order, and shared items are placed where the applied list puts them.
 */
function mergeItems(live: Child[], applied: Child[], merge: (element: string, old?: Child, now?: Child) => unknown): unknown[] {
  const liveByElement = new Map<string, Child>();
  for (const child of live) if (!liveByElement.has(child.element)) liveByElement.set(child.element, child);
  const appliedByElement = new Map<string, Child>();
  for (const child of applied) if (!appliedByElement.has(child.element)) appliedByElement.set(child.element, child);
  const shared = applied.map((child) => child.element).filter((element) => liveByElement.has(element));
  let nextShared = shared.shift();
  const done = new Set<string>();
  const out: unknown[] = [];
  let l = 0;
  let r = 0;
  while (l < live.length || r < applied.length) {
    const liveElement = live[l]?.element;
    const appliedElement = applied[r]?.element;
    if (liveElement !== undefined && appliedElement !== undefined) {
      if (liveElement === appliedElement) {
        done.add(liveElement);
        out.push(merge(liveElement, liveByElement.get(liveElement), appliedByElement.get(liveElement)));
        l++, r++;
        nextShared = shared.shift();
        continue;
      }
      if (appliedByElement.has(liveElement) && nextShared !== undefined && nextShared !== liveElement) {
        l++;
        continue;
      }
    }
    if (liveElement !== undefined && !appliedByElement.has(liveElement)) {
      out.push(live[l]?.value);
      l++;
      continue;
    }
    if (liveElement !== undefined && done.has(liveElement)) {
      l++;
      continue;
    }
    if (appliedElement !== undefined) {
      done.add(appliedElement);
      out.push(merge(appliedElement, liveByElement.get(appliedElement), appliedByElement.get(appliedElement)));
      r++;
      if (nextShared === appliedElement) nextShared = shared.shift();
    }
  }
  return out;
}

/**
 * Removes the field at `path` from `root` (in place), then any object or list the removal left
 * empty, as Go's omitempty drops them when upstream re-encodes the object.
 */
export function removeField(root: JsonObject, path: readonly string[], strategy: FieldStrategy): void {
  const [element, ...rest] = path;
  if (element === undefined) return;
  const children = childrenOf(root, strategy, []) ?? [];
  const index = children.findIndex((child) => child.element === element);
  const child = children[index];
  if (child === undefined) return;
  if (rest.length > 0) {
    if (!isJsonObject(child.value) && !Array.isArray(child.value)) return;
    removeFrom(child.value, rest, child.strategy ?? {});
    if (!isEmptyContainer(child.value)) return;
  }
  if (element.startsWith('f:')) delete root[element.slice(2)];
}

function removeFrom(container: JsonObject | unknown[], path: readonly string[], strategy: FieldStrategy): void {
  if (isJsonObject(container)) {
    removeField(container, path, strategy);
    return;
  }
  const [element, ...rest] = path;
  const children = childrenOf(container, strategy, []) ?? [];
  const index = children.findIndex((child) => child.element === element);
  const child = children[index];
  if (child === undefined) return;
  if (rest.length > 0 && isJsonObject(child.value)) {
    removeField(child.value, rest, child.strategy ?? {});
    return;
  }
  if (rest.length === 0) container.splice(index, 1);
}

function isEmptyContainer(value: unknown): boolean {
  return Array.isArray(value) ? value.length === 0 : isJsonObject(value) && Object.keys(value).length === 0;
}
