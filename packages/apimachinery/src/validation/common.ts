/**
 * Small shared pieces of validation: reading untyped request bodies safely, immutability, and
 * Go's %#v rendering for the few values kube-apiserver prints that way.
 */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';

export const FIELD_IMMUTABLE = 'field is immutable';
export const IS_NEGATIVE = 'must be greater than or equal to 0';

/** Request bodies are untrusted JSON: a field of the wrong shape reads as absent. */
export function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function list<T = unknown>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

export function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function stringMap(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, entry] of Object.entries(record(value))) result[key] = typeof entry === 'string' ? entry : String(entry);
  return result;
}

/** One Invalid error per message, as upstream turns each `is*` message into a field error. */
export function invalidEach(field: string, value: unknown, messages: readonly string[]): FieldError[] {
  return messages.map((message) => fieldErrors.invalid(field, value, message));
}

export function nonNegative(field: string, value: unknown): FieldError[] {
  return typeof value === 'number' && value < 0 ? [fieldErrors.invalid(field, value, IS_NEGATIVE)] : [];
}

/** A value kube-apiserver prints with Go's %#v; `goValue` is that text, for renderers that want it. */
export interface GoValueFieldError extends FieldError {
  readonly goValue: string;
}

export function invalidGoValue(field: string, value: unknown, goValue: string, detail: string): GoValueFieldError {
  return { ...fieldErrors.invalid(field, value, detail), goValue };
}

export function immutable(field: string, newValue: unknown, oldValue: unknown, goValue?: string): FieldError[] {
  if (deepEqual(newValue, oldValue)) return [];
  return [goValue === undefined ? fieldErrors.invalid(field, newValue, FIELD_IMMUTABLE) : invalidGoValue(field, newValue, goValue, FIELD_IMMUTABLE)];
}

/** Semantic equality of JSON values: absent, null and empty collections are alike, as Go's zero values are. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => deepEqual(item, b[index]));
  }
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
  }
  return a === b;
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

/** Go's %#v of a map[string]string: keys sorted, `map[string]string{"a":"b", "c":"d"}`. */
export function goStringMap(map: Readonly<Record<string, string>> | undefined): string {
  if (map === undefined) return 'map[string]string(nil)';
  const entries = Object.keys(map)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${JSON.stringify(map[key])}`);
  return `map[string]string{${entries.join(', ')}}`;
}

/** Go's %#v of a slice of strings (or of a string type, as `[]core.IPFamily{"IPv4"}`); undefined is nil. */
export function goStrings(values: readonly string[] | undefined, elementType = 'string'): string {
  return values === undefined ? `[]${elementType}(nil)` : `[]${elementType}{${values.map((value) => JSON.stringify(value)).join(', ')}}`;
}

/** Go's %#v of a meta/v1 LabelSelector, as "field is immutable" on spec.selector shows it. */
export function goLabelSelector(selector: unknown): string {
  const fields = record(selector);
  const expressions = list(fields['matchExpressions']).map((expression) => {
    const requirement = record(expression);
    const values = Array.isArray(requirement['values']) ? list<string>(requirement['values']) : undefined;
    return `v1.LabelSelectorRequirement{Key:${JSON.stringify(text(requirement['key']))}, Operator:${JSON.stringify(text(requirement['operator']))}, Values:${goStrings(values)}}`;
  });
  const matchLabels = fields['matchLabels'] === undefined ? undefined : stringMap(fields['matchLabels']);
  const matchExpressions = fields['matchExpressions'] === undefined ? '[]v1.LabelSelectorRequirement(nil)' : `[]v1.LabelSelectorRequirement{${expressions.join(', ')}}`;
  return `v1.LabelSelector{MatchLabels:${goStringMap(matchLabels)}, MatchExpressions:${matchExpressions}}`;
}
