import jsonpatch from 'fast-json-patch';
import type { ApiError } from '../errors.js';
import { goUnmarshalKind } from '../openapi/typed_decode.js';
import { cloneJson, isJsonObject, jsonEqual, type JsonObject } from './json_values.js';
import { patchErrors } from './patch_errors.js';

/**
 * RFC 6902 JSON patch (application/json-patch+json) as kube-apiserver applies it: with
 * gopkg.in/evanphx/json-patch.v4, whose quirks clients can observe and we therefore keep:
 * - `replace` of a missing object member adds it; `copy` from a missing member copies null;
 * - negative array indices count from the end; `add` at the root path fails;
 * - a `test` of a missing member passes when the expected value is null.
 * Paths are resolved here (so failures carry upstream's wording); the edits are fast-json-patch's.
 * Failures: 400 for a body that is not a patch, 413 past 10000 operations, 422 for an
 * operation that does not apply. The input document is never modified.
 */
export function applyJsonPatch(document: unknown, patchBody: unknown): unknown {
  const operations = decodePatch(patchBody);
  let current = cloneJson(document);
  for (const operation of operations) current = applyOperation(current, operation);
  return current;
}

/** kube-apiserver's maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

type Operation = JsonObject | null;

function decodePatch(body: unknown): Operation[] {
  if (body === null) return [];
  if (!Array.isArray(body)) throw patchErrors.badRequest(`json: cannot unmarshal ${goUnmarshalKind(body)} into Go value of type jsonpatch.Patch`);
  for (const operation of body) {
    if (operation !== null && !isJsonObject(operation)) {
      throw patchErrors.badRequest(`json: cannot unmarshal ${goUnmarshalKind(operation)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (body.length > MAX_JSON_PATCH_OPERATIONS) {
    throw patchErrors.tooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${body.length}`);
  }
  return body as Operation[];
}


/** The container a path's last segment lives in, with the pointer fast-json-patch should use for it. */
type Parent =
  | { kind: 'object'; value: JsonObject; pointer: string; key: string }
  | { kind: 'array'; value: unknown[]; pointer: string; key: string };

/** Go's findObject: every segment but the last must name an existing object or array. */
function findParent(document: unknown, path: string): Parent | undefined {
  const segments = path.split('/');
  if (segments.length < 2) return undefined;
  let node: unknown = document;
  let pointer = '';
  for (const raw of segments.slice(1, -1)) {
    const key = decodeSegment(raw);
    let next: unknown;
    if (Array.isArray(node)) {
      const index = arrayIndex(key, node.length - 1);
      if (typeof index !== 'number') return undefined;
      next = node[index];
      pointer += `/${index}`;
    } else if (isJsonObject(node)) {
      next = node[key];
      pointer += `/${jsonpatch.escapePathComponent(key)}`;
    }
    if (!Array.isArray(next) && !isJsonObject(next)) return undefined;
    node = next;
  }
  const key = decodeSegment(segments[segments.length - 1] ?? '');
  if (Array.isArray(node)) return { kind: 'array', value: node, pointer, key };
  if (isJsonObject(node)) return { kind: 'object', value: node, pointer, key };
  return undefined;
}

function decodeSegment(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** strconv.Atoi plus Go's negative-index rule; a string is the error text. `max` is the last valid index. */
function arrayIndex(key: string, max: number): number | string {
  if (!/^[+-]?\d+$/.test(key)) return `strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`;
  let index = Number(key);
  if (index < 0) {
    if (index < -(max + 1)) return invalidIndex(index);
    index += max + 1;
  }
  if (index > max) return invalidIndex(index);
  return index;
}

const invalidIndex = (index: number): string => `Unable to access invalid index: ${index}: invalid index referenced`;

/** The value at a parent's key (undefined for a missing member or null), or an error text. */
function getChild(parent: Parent): { value: unknown; pointer: string } | string {
  if (parent.kind === 'object') {
    return { value: parent.value[parent.key] ?? undefined, pointer: `${parent.pointer}/${jsonpatch.escapePathComponent(parent.key)}` };
  }
  const index = arrayIndex(parent.key, parent.value.length - 1);
  if (typeof index === 'string') return index;
  return { value: parent.value[index] ?? undefined, pointer: `${parent.pointer}/${index}` };
}

function failed(message: string): ApiError {
  return patchErrors.unprocessable(message);
}

function edit(document: unknown, operation: jsonpatch.Operation): unknown {
  return jsonpatch.applyOperation(document, operation, false, true).newDocument;
}

function applyOperation(document: unknown, operation: Operation): unknown {
  const kind = typeof operation?.['op'] === 'string' ? operation['op'] : 'unknown';
  const op = operation ?? {};
  switch (kind) {
    case 'add':
      return add(document, requirePath(op, 'add operation failed to decode path: missing value'), op['value'] ?? null);
    case 'remove':
      return remove(document, requirePath(op, 'remove operation failed to decode path: missing value'));
    case 'replace':
      return replace(document, requirePath(op, 'replace operation failed to decode path: operation missing path field: missing value'), op['value'] ?? null);
    case 'move':
      return move(document, op);
    case 'copy':
      return copy(document, op);
    case 'test':
      return test(document, requirePath(op, 'test operation failed to decode path: operation missing path field: missing value'), op['value'] ?? null);
    default:
      throw failed(`Unexpected kind: ${kind}`);
  }
}

function requirePath(operation: JsonObject, message: string, field = 'path'): string {
  const path = operation[field];
  if (typeof path !== 'string') throw failed(message);
  return path;
}

function add(document: unknown, path: string, value: unknown, errorPrefix = `error in add for path: '${path}'`): unknown {
  const parent = findParent(document, path);
  if (parent === undefined) throw failed(`add operation does not apply: doc is missing path: "${path}": missing value`);
  let pointer = `${parent.pointer}/${jsonpatch.escapePathComponent(parent.key)}`;
  if (parent.kind === 'array' && parent.key !== '-') {
    const index = arrayIndex(parent.key, parent.value.length);
    if (typeof index === 'string') {
      const text = index.startsWith('strconv') ? `value was not a proper array index: '${parent.key}': ${index}` : index;
      throw failed(`${errorPrefix}: ${text}`);
    }
    pointer = `${parent.pointer}/${index}`;
  }
  return edit(document, { op: 'add', path: pointer, value: cloneJson(value) });
}

function remove(document: unknown, path: string, describe = `error in remove for path: '${path}'`): unknown {
  const parent = findParent(document, path);
  if (parent === undefined) throw failed(`remove operation does not apply: doc is missing path: "${path}": missing value`);
  if (parent.kind === 'object' && !(parent.key in parent.value)) {
    throw failed(`${describe}: Unable to remove nonexistent key: ${parent.key}: missing value`);
  }
  const child = getChild(parent);
  if (typeof child === 'string') throw failed(`${describe}: ${child}`);
  return edit(document, { op: 'remove', path: child.pointer });
}

function replace(document: unknown, path: string, value: unknown): unknown {
  if (path === '') return Array.isArray(value) || isJsonObject(value) ? cloneJson(value) : document;
  const parent = findParent(document, path);
  if (parent === undefined) throw failed(`replace operation does not apply: doc is missing path: ${path}: missing value`);
  const child = getChild(parent);
  if (typeof child === 'string') throw failed(`replace operation does not apply: doc is missing key: ${path}: missing value`);
  // An object member that does not exist is added (json-patch v4 behaviour).
  return edit(document, { op: parent.kind === 'object' ? 'add' : 'replace', path: child.pointer, value: cloneJson(value) });
}

function move(document: unknown, operation: JsonObject): unknown {
  const from = requirePath(operation, 'move operation failed to decode from: operation, missing from field: missing value', 'from');
  const source = findParent(document, from);
  if (source === undefined) throw failed(`move operation does not apply: doc is missing from path: ${from}: missing value`);
  const child = getChild(source);
  if (typeof child === 'string') throw failed(`error in move for path: '${source.key}': ${child}`);
  const afterRemove = remove(document, from, `error in move for path: '${source.key}'`);
  const path = requirePath(operation, 'move operation failed to decode path: operation missing path field: missing value');
  if (findParent(afterRemove, path) === undefined) {
    throw failed(`move operation does not apply: doc is missing destination path: ${path}: missing value`);
  }
  return add(afterRemove, path, child.value ?? null, `error in move for path: '${path}'`);
}

function copy(document: unknown, operation: JsonObject): unknown {
  const from = requirePath(operation, 'copy operation failed to decode from: operation, missing from field: missing value', 'from');
  const source = findParent(document, from);
  if (source === undefined) throw failed(`copy operation does not apply: doc is missing from path: ${from}: missing value`);
  const child = getChild(source);
  if (typeof child === 'string') throw failed(`error in copy for from: '${from}': ${child}`);
  const path = requirePath(operation, 'copy operation failed to decode path: missing value');
  if (findParent(document, path) === undefined) {
    throw failed(`copy operation does not apply: doc is missing destination path: ${path}: missing value`);
  }
  return add(document, path, child.value ?? null, 'error while adding value during copy');
}

function test(document: unknown, path: string, expected: unknown): unknown {
  const testFailed = failed(`testing value ${path} failed: test failed`);
  if (path === '') {
    if (!jsonEqual(document, expected)) throw testFailed;
    return document;
  }
  const parent = findParent(document, path);
  if (parent === undefined) throw failed(`test operation does not apply: is missing path: ${path}: missing value`);
  const child = getChild(parent);
  if (typeof child === 'string') throw failed(`error in test for path: '${path}': ${child}`);
  // A missing member and a null one are the same to json-patch v4.
  const actual = child.value ?? null;
  if (!jsonEqual(actual, expected)) throw testFailed;
  return document;
}
