/**
 * Field selectors (`?fieldSelector=`, `kubectl --field-selector`) as k8s.io/apimachinery/pkg/fields
 * parses them, limited to the fields each resource's field label conversion accepts, and matched
 * against the field values kube-apiserver's per-resource ToSelectableFields computes.
 */
import { apiErrors } from './errors.js';
import type { ResourceType } from './resources.js';

export type FieldOperator = '=' | '==' | '!=';

export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  /** Unescaped: `\,` `\=` `\\` already turned into `,` `=` `\`. */
  readonly value: string;
}

const OPERATORS: readonly FieldOperator[] = ['!=', '==', '='];

/** Parses `metadata.name=web,status.phase!=Running`; throws kube-apiserver's 400 answers. */
export function parseFieldSelector(text: string, type: Pick<ResourceType, 'selectableFields'>): FieldRequirement[] {
  // Upstream sorts the raw terms first, so errors name the first bad term in that order.
  const terms = splitTerms(text).sort(compareStrings);
  const requirements: FieldRequirement[] = [];
  for (const term of terms) {
    if (term === '') continue;
    const split = splitTerm(term);
    if (split === undefined) throw apiErrors.badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    requirements.push({ field: split.field, operator: split.operator, value: unescapeValue(split.value) });
  }
  for (const requirement of requirements) {
    if (!isSelectable(requirement.field, type))
      throw apiErrors.badRequest(`field label not supported: ${requirement.field}`);
  }
  return requirements;
}

function isSelectable(field: string, type: Pick<ResourceType, 'selectableFields'>): boolean {
  return field === 'metadata.name' || field === 'metadata.namespace' || type.selectableFields.includes(field);
}

/** Splits on commas that are not backslash-escaped; escapes stay in place for unescapeValue. */
function splitTerms(text: string): string[] {
  if (text === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let index = 0; index < text.length; index++) {
    const character = text.charAt(index);
    if (escaped) escaped = false;
    else if (character === '\\') escaped = true;
    else if (character === ',') {
      terms.push(text.slice(start, index));
      start = index + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

/** The first operator occurrence splits the term; the field side has no escaping. */
function splitTerm(term: string): { field: string; operator: FieldOperator; value: string } | undefined {
  for (let index = 0; index < term.length; index++) {
    const rest = term.slice(index);
    const operator = OPERATORS.find((candidate) => rest.startsWith(candidate));
    if (operator !== undefined) return { field: term.slice(0, index), operator, value: term.slice(index + operator.length) };
  }
  return undefined;
}

function unescapeValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let result = '';
  let escaped = false;
  for (const character of value) {
    if (escaped) {
      if (character !== '\\' && character !== ',' && character !== '=')
        throw apiErrors.badRequest(`invalid field selector: invalid escape sequence: \\${character}`);
      result += character;
      escaped = false;
    } else if (character === '\\') {
      escaped = true;
    } else if (character === ',' || character === '=') {
      // Go prints the rune with %v, that is its code point ("61" for '=').
      throw apiErrors.badRequest(`invalid field selector: unescaped character in value: ${character.codePointAt(0) ?? 0}`);
    } else {
      result += character;
    }
  }
  if (escaped) throw apiErrors.badRequest('invalid field selector: invalid escape sequence: \\');
  return result;
}

/** True when every requirement holds for the object's selectable field values. */
export function matchesFields(requirements: readonly FieldRequirement[], object: unknown): boolean {
  return requirements.every((requirement) => {
    const actual = selectableFieldValue(object, requirement.field);
    return requirement.operator === '!=' ? actual !== requirement.value : actual === requirement.value;
  });
}

/**
 * The value a field selector compares against. Mostly the field at that path, as a string ("" when
 * absent); a few fields are computed as upstream computes them.
 */
export function selectableFieldValue(object: unknown, field: string): string {
  const computed = COMPUTED_FIELDS[field];
  if (computed !== undefined) return computed(object);
  return asFieldString(lookup(object, field));
}

const COMPUTED_FIELDS: Readonly<Record<string, (object: unknown) => string>> = {
  // Booleans and counters are formatted from Go zero values, so an absent one reads false or 0.
  'spec.hostNetwork': (object) => String(lookup(object, 'spec.hostNetwork') === true),
  'spec.unschedulable': (object) => String(lookup(object, 'spec.unschedulable') === true),
  'status.replicas': (object) => String(numberOr(lookup(object, 'status.replicas'), 0)),
  // The pod's first IP from status.podIPs (status.podIP mirrors it).
  'status.podIP': (object) => asFieldString(lookup(object, 'status.podIPs.0.ip') ?? lookup(object, 'status.podIP')),
  // Events: "source" is source.component, falling back to reportingComponent (events.k8s.io's field).
  source: (object) => asFieldString(lookup(object, 'source.component')) || asFieldString(lookup(object, 'reportingComponent')),
};

function lookup(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function asFieldString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
