import { cloneJson, isJsonObject, type JsonObject } from './json_values.js';
import { patchErrors } from './patch_errors.js';

/**
 * RFC 7386 JSON merge patch (application/merge-patch+json), as evanphx/json-patch's MergePatch
 * does it for kube-apiserver: null deletes a member, objects merge recursively, anything else
 * (arrays included) replaces. Nulls inside a value that replaces are dropped from its objects, as
 * upstream prunes them. A patch that is not an object is a 400 "Invalid JSON Patch". The input
 * document is never modified.
 */
export function applyMergePatch(document: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) throw patchErrors.badRequest('Invalid JSON Patch');
  if (!isJsonObject(document)) return pruneNulls(cloneJson(patch));
  return mergeObjects(cloneJson(document), patch);
}

function mergeObjects(target: JsonObject, patch: JsonObject): JsonObject {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete target[key];
      continue;
    }
    const current = target[key];
    target[key] = isJsonObject(current) && isJsonObject(value) ? mergeObjects(current, value) : pruneNulls(cloneJson(value));
  }
  return target;
}

/** Drops null members of objects, at any depth (array elements that are null stay). */
function pruneNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pruneNulls);
  if (!isJsonObject(value)) return value;
  for (const [key, member] of Object.entries(value)) {
    if (member === null) delete value[key];
    else value[key] = pruneNulls(member);
  }
  return value;
}
