import { isJsonObject, type JsonObject } from './json_values.js';

/**
 * A set of field paths, as structured-merge-diff's fieldpath.Set: the ownership unit of
 * server-side apply, serialized as `fieldsV1` in metadata.managedFields. A path is a list of
 * elements: `f:<field>`, `k:<json of the merge key>` (a list item by key), `v:<json value>` (a set
 * item), `i:<index>`. A path is a *member* when the field itself is owned; a node can be both a
 * member and hold owned children, which FieldsV1 marks with `".": {}`.
 */
export class FieldSet {
  private readonly members = new Set<string>();
  private readonly children = new Map<string, FieldSet>();

  static fromFieldsV1(fields: unknown): FieldSet {
    const set = new FieldSet();
    if (!isJsonObject(fields)) return set;
    for (const [element, value] of Object.entries(fields)) {
      if (element === '.') continue;
      const child = FieldSet.fromFieldsV1(value);
      if (isJsonObject(value) && ('.' in value || Object.keys(value).length === 0)) set.members.add(element);
      if (!child.isEmpty()) set.children.set(element, child);
    }
    return set;
  }

  toFieldsV1(): JsonObject {
    const out: JsonObject = {};
    for (const element of sortElements(new Set([...this.members, ...this.children.keys()]))) {
      const child = this.children.get(element);
      if (child === undefined) out[element] = {};
      else out[element] = this.members.has(element) ? { '.': {}, ...child.toFieldsV1() } : child.toFieldsV1();
    }
    return out;
  }

  isEmpty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  insert(path: readonly string[]): void {
    const [head, ...rest] = path;
    if (head === undefined) return;
    if (rest.length === 0) {
      this.members.add(head);
      return;
    }
    let child = this.children.get(head);
    if (child === undefined) this.children.set(head, (child = new FieldSet()));
    child.insert(rest);
  }

  has(path: readonly string[]): boolean {
    const [head, ...rest] = path;
    if (head === undefined) return false;
    if (rest.length === 0) return this.members.has(head);
    return this.children.get(head)?.has(rest) ?? false;
  }

  /** Whether the path, or anything below it, is in the set. */
  hasAtOrBelow(path: readonly string[]): boolean {
    const [head, ...rest] = path;
    if (head === undefined) return !this.isEmpty();
    if (rest.length === 0 && this.members.has(head)) return true;
    return this.children.get(head)?.hasAtOrBelow(rest) ?? false;
  }

  union(other: FieldSet): FieldSet {
    return combine(this, other, (inThis, inOther) => inThis || inOther);
  }

  intersection(other: FieldSet): FieldSet {
    return combine(this, other, (inThis, inOther) => inThis && inOther);
  }

  difference(other: FieldSet): FieldSet {
    return combine(this, other, (inThis, inOther) => inThis && !inOther);
  }

  /** Drops every path at or below the other set's members (upstream's RecursiveDifference). */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const element of this.members) if (!other.members.has(element)) out.members.add(element);
    for (const [element, child] of this.children) {
      if (other.members.has(element)) continue;
      const otherChild = other.children.get(element);
      const kept = otherChild === undefined ? child : child.recursiveDifference(otherChild);
      if (!kept.isEmpty()) out.children.set(element, kept);
    }
    return out;
  }

  /** Every member path, each before the paths below it, in serialization order. */
  paths(prefix: readonly string[] = []): string[][] {
    const out: string[][] = [];
    for (const element of sortElements(new Set([...this.members, ...this.children.keys()]))) {
      const path = [...prefix, element];
      if (this.members.has(element)) out.push(path);
      const child = this.children.get(element);
      if (child !== undefined) out.push(...child.paths(path));
    }
    return out;
  }
}

function combine(left: FieldSet, right: FieldSet, keep: (inLeft: boolean, inRight: boolean) => boolean): FieldSet {
  const out = new FieldSet();
  const leftPaths = new Set(left.paths().map((path) => JSON.stringify(path)));
  const rightPaths = new Set(right.paths().map((path) => JSON.stringify(path)));
  for (const key of new Set([...leftPaths, ...rightPaths])) {
    if (keep(leftPaths.has(key), rightPaths.has(key))) out.insert(JSON.parse(key) as string[]);
  }
  return out;
}

const ELEMENT_RANK: Readonly<Record<string, number>> = { f: 0, k: 1, v: 2, i: 3 };

/** Field names first, then keys, values and indices (structured-merge-diff's element order). */
function sortElements(elements: Set<string>): string[] {
  const rank = (element: string): number => ELEMENT_RANK[element.slice(0, 1)] ?? 4;
  return [...elements].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** A path as kube-apiserver prints it in conflicts: `.spec.containers[name="app"].image`. */
export function formatPath(path: readonly string[]): string {
  return path.map(formatElement).join('');
}

function formatElement(element: string): string {
  const body = element.slice(2);
  switch (element.slice(0, 2)) {
    case 'f:':
      return `.${body}`;
    case 'k:': {
      const key = JSON.parse(body) as JsonObject;
      return `[${Object.keys(key)
        .map((name) => `${name}=${JSON.stringify(key[name])}`)
        .join(',')}]`;
    }
    case 'v:':
      return `[=${body}]`;
    default:
      return `[${body}]`;
  }
}

export const fieldElement = (name: string): string => `f:${name}`;
export const keyElement = (mergeKey: string, value: unknown): string => `k:${JSON.stringify({ [mergeKey]: value })}`;
export const valueElement = (value: unknown): string => `v:${JSON.stringify(value)}`;
