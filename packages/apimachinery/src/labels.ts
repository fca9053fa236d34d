/**
 * Label selectors as k8s.io/apimachinery/pkg/labels has them: the string syntax of `?labelSelector=`
 * and `kubectl -l` (parsed with upstream's lexer rules and error texts), meta/v1 LabelSelector
 * objects, matching, and the string form kubectl -o wide prints.
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { apiErrors } from './errors.js';
import { isLabelValue, isQualifiedName } from './validation/names.js';

/** selection.Operator's spellings. */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** Sorted and unique for in/notin (upstream keeps a set); one value for =, ==, !=, gt, lt. */
  readonly values: readonly string[];
}

type Token =
  | 'end'
  | 'closedPar'
  | 'comma'
  | 'doesNotExist'
  | 'doubleEquals'
  | 'equals'
  | 'greaterThan'
  | 'identifier'
  | 'in'
  | 'lessThan'
  | 'notEquals'
  | 'notIn'
  | 'openPar';

interface Scanned {
  readonly token: Token;
  readonly literal: string;
}

const LITERAL_TOKENS: Readonly<Record<string, Token>> = {
  ')': 'closedPar',
  ',': 'comma',
  '!': 'doesNotExist',
  '==': 'doubleEquals',
  '=': 'equals',
  '>': 'greaterThan',
  in: 'in',
  '<': 'lessThan',
  '!=': 'notEquals',
  notin: 'notIn',
  '(': 'openPar',
};

const OPERATOR_OF: Partial<Record<Token, LabelOperator>> = {
  in: 'in',
  equals: '=',
  doubleEquals: '==',
  greaterThan: 'gt',
  lessThan: 'lt',
  notIn: 'notin',
  notEquals: '!=',
};

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';
const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);

/** Splits the text into tokens exactly as upstream's Lexer does (so errors name the same literals). */
function scan(text: string): Scanned[] {
  const items: Scanned[] = [];
  let position = 0;
  for (;;) {
    while (position < text.length && WHITESPACE.has(text.charAt(position))) position++;
    if (position >= text.length) {
      items.push({ token: 'end', literal: '' });
      return items;
    }
    const start = position;
    if (SPECIAL.has(text.charAt(position))) {
      // Longest run of special characters that is still a token: "!=" but "=(" is "=" then "(".
      let literal = '';
      while (position < text.length && SPECIAL.has(text.charAt(position))) {
        const candidate = text.slice(start, position + 1);
        if (LITERAL_TOKENS[candidate] === undefined && literal !== '') break;
        if (LITERAL_TOKENS[candidate] !== undefined) literal = candidate;
        position++;
      }
      position = start + literal.length;
      items.push({ token: LITERAL_TOKENS[literal] ?? 'identifier', literal });
    } else {
      while (position < text.length && !SPECIAL.has(text.charAt(position)) && !WHITESPACE.has(text.charAt(position))) position++;
      const literal = text.slice(start, position);
      items.push({ token: LITERAL_TOKENS[literal] ?? 'identifier', literal });
    }
  }
}

class SelectorSyntaxError extends Error {}

/** Upstream's Parser: 'in'/'notin' read as identifiers where values are expected. */
class Parser {
  private position = 0;
  constructor(private readonly items: readonly Scanned[]) {}

  lookahead(values: boolean): Scanned {
    return this.asValue(this.items[Math.min(this.position, this.items.length - 1)] as Scanned, values);
  }

  consume(values: boolean): Scanned {
    const item = this.lookahead(values);
    this.position++;
    return item;
  }

  private asValue(item: Scanned, values: boolean): Scanned {
    return values && (item.token === 'in' || item.token === 'notIn') ? { token: 'identifier', literal: item.literal } : item;
  }
}

/** Parses `app=web,tier in (a,b),!canary`; throws kube-apiserver's 400 for bad syntax. */
export function parseLabelSelector(text: string): LabelRequirement[] {
  try {
    return parseRequirements(new Parser(scan(text))).sort((a, b) => compareStrings(a.key, b.key));
  } catch (error) {
    if (error instanceof SelectorSyntaxError) throw apiErrors.badRequest(error.message);
    throw error;
  }
}

function parseRequirements(parser: Parser): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  for (;;) {
    const next = parser.lookahead(true);
    if (next.token === 'end') return requirements;
    if (next.token !== 'identifier' && next.token !== 'doesNotExist')
      throw new SelectorSyntaxError(`found '${next.literal}', expected: !, identifier, or 'end of string'`);
    requirements.push(parseRequirementOrExplain(parser));
    const after = parser.consume(true);
    if (after.token === 'end') return requirements;
    if (after.token !== 'comma') throw new SelectorSyntaxError(`found '${after.literal}', expected: ',' or 'end of string'`);
    const following = parser.lookahead(true);
    if (following.token !== 'identifier' && following.token !== 'doesNotExist')
      throw new SelectorSyntaxError(`found '${following.literal}', expected: identifier after ','`);
  }
}

function parseRequirementOrExplain(parser: Parser): LabelRequirement {
  try {
    return parseRequirement(parser);
  } catch (error) {
    if (error instanceof SelectorSyntaxError) throw new SelectorSyntaxError(`unable to parse requirement: ${error.message}`);
    throw error;
  }
}

function parseRequirement(parser: Parser): LabelRequirement {
  let first = parser.consume(true);
  const negated = first.token === 'doesNotExist';
  if (negated) first = parser.consume(true);
  if (first.token !== 'identifier') throw new SelectorSyntaxError(`found '${first.literal}', expected: identifier`);
  const key = first.literal;
  const keyErrors = isQualifiedName(key);
  // Upstream reports this with a nil field path, hence the literal "<nil>".
  if (keyErrors.length > 0) throw new SelectorSyntaxError(`<nil>: Invalid value: ${JSON.stringify(key)}: ${keyErrors.join('; ')}`);
  const next = parser.lookahead(true).token;
  if (negated || next === 'end' || next === 'comma') return checked(key, negated ? '!' : 'exists', []);
  const operatorItem = parser.consume(false);
  const operator = OPERATOR_OF[operatorItem.token];
  if (operator === undefined) throw new SelectorSyntaxError(`found '${operatorItem.literal}', expected: ${BINARY_OPERATORS}`);
  const values = operator === 'in' || operator === 'notin' ? parseValueSet(parser) : parseExactValue(parser);
  return checked(key, operator, [...new Set(values)].sort(compareStrings));
}

function parseValueSet(parser: Parser): string[] {
  const open = parser.consume(true);
  if (open.token !== 'openPar') throw new SelectorSyntaxError(`found '${open.literal}' expected: '('`);
  const next = parser.lookahead(true);
  if (next.token === 'closedPar') {
    parser.consume(true);
    return [''];
  }
  if (next.token !== 'identifier' && next.token !== 'comma')
    throw new SelectorSyntaxError(`found '${next.literal}', expected: ',', ')' or identifier`);
  const values = parseIdentifierList(parser);
  if (parser.consume(true).token !== 'closedPar') throw new SelectorSyntaxError(`found '${next.literal}', expected: ')'`);
  return values;
}

/** A comma-separated list in which empty entries are the empty value: "(a,,b)", "(,a)". */
function parseIdentifierList(parser: Parser): string[] {
  const values: string[] = [];
  for (;;) {
    const item = parser.consume(true);
    if (item.token === 'identifier') {
      values.push(item.literal);
      const after = parser.lookahead(true);
      if (after.token === 'closedPar') return values;
      if (after.token !== 'comma') throw new SelectorSyntaxError(`found '${after.literal}', expected: ',' or ')'`);
    } else if (item.token === 'comma') {
      if (values.length === 0) values.push('');
      const after = parser.lookahead(true).token;
      if (after === 'closedPar') {
        values.push('');
        return values;
      }
      if (after === 'comma') values.push('');
    } else {
      throw new SelectorSyntaxError(`found '${item.literal}', expected: ',', or identifier`);
    }
  }
}

function parseExactValue(parser: Parser): string[] {
  const next = parser.lookahead(true);
  if (next.token === 'end' || next.token === 'comma') return [''];
  const item = parser.consume(true);
  if (item.token === 'identifier') return [item.literal];
  throw new SelectorSyntaxError(`found '${item.literal}', expected: identifier`);
}

/** NewRequirement's checks on the values (the key is already checked). */
function checked(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
  const problems: string[] = [];
  if ((operator === 'gt' || operator === 'lt') && !/^[+-]?\d+$/.test(values[0] ?? ''))
    problems.push(`values[0]: Invalid value: ${JSON.stringify(values[0] ?? '')}: for 'Gt', 'Lt' operators, the value must be an integer`);
  values.forEach((value, index) => {
    const errors = isLabelValue(value);
    if (errors.length > 0) problems.push(`values[${index}][${key}]: Invalid value: ${JSON.stringify(value)}: ${errors.join('; ')}`);
  });
  if (problems.length === 1) throw new SelectorSyntaxError(problems[0] as string);
  if (problems.length > 1) throw new SelectorSyntaxError(`[${problems.join(', ')}]`);
  return { key, operator, values };
}

/** True when every requirement holds for the labels (an empty list matches everything). */
export function matchesLabels(requirements: readonly LabelRequirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  return requirements.every((requirement) => matchesRequirement(requirement, labels ?? {}));
}

function matchesRequirement(requirement: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const present = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = present ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case 'in':
    case '=':
    case '==':
      return value !== undefined && requirement.values.includes(value);
    case 'notin':
    case '!=':
      return value === undefined || !requirement.values.includes(value);
    case 'exists':
      return present;
    case '!':
      return !present;
    case 'gt':
    case 'lt':
      return compareAsIntegers(requirement, value);
  }
}

function compareAsIntegers(requirement: LabelRequirement, value: string | undefined): boolean {
  if (value === undefined || !/^[+-]?\d+$/.test(value)) return false;
  const actual = BigInt(value);
  const bound = BigInt(requirement.values[0] ?? '0');
  return requirement.operator === 'gt' ? actual > bound : actual < bound;
}

/**
 * A meta/v1 LabelSelector as requirements (LabelSelectorAsSelector). An empty selector gives no
 * requirements (matches everything); callers decide what an absent selector means (upstream:
 * nothing), see matchesLabelSelector.
 */
export function requirementsFromLabelSelector(selector: LabelSelector): LabelRequirement[] {
  const requirements: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    operator: '=',
    values: [value],
  }));
  for (const expression of selector.matchExpressions ?? []) {
    requirements.push({ key: expression.key, operator: operatorOf(expression.operator), values: expression.values ?? [] });
  }
  return requirements.sort((a, b) => compareStrings(a.key, b.key));
}

function operatorOf(operator: string): LabelOperator {
  switch (operator) {
    case 'In':
      return 'in';
    case 'NotIn':
      return 'notin';
    case 'Exists':
      return 'exists';
    case 'DoesNotExist':
      return '!';
    default:
      throw apiErrors.badRequest(`${JSON.stringify(operator)} is not a valid label selector operator`);
  }
}

/** A nil selector selects nothing, an empty one everything (as for Deployments and ReplicaSets). */
export function matchesLabelSelector(selector: LabelSelector | undefined | null, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (selector === undefined || selector === null) return false;
  return matchesLabels(requirementsFromLabelSelector(selector), labels);
}

/** The SELECTOR column of kubectl -o wide: "app=web,tier in (a,b)"; "" for an empty selector. */
export function labelSelectorToString(selector: LabelSelector | undefined | null): string {
  if (selector === undefined || selector === null) return '';
  return requirementsToString(requirementsFromLabelSelector(selector));
}

export function requirementsToString(requirements: readonly LabelRequirement[]): string {
  return requirements.map(requirementToString).join(',');
}

function requirementToString(requirement: LabelRequirement): string {
  const values = [...requirement.values].sort(compareStrings).join(',');
  switch (requirement.operator) {
    case 'exists':
      return requirement.key;
    case '!':
      return `!${requirement.key}`;
    case 'in':
    case 'notin':
      return `${requirement.key} ${requirement.operator} (${values})`;
    case 'gt':
      return `${requirement.key}>${values}`;
    case 'lt':
      return `${requirement.key}<${values}`;
    default:
      return `${requirement.key}${requirement.operator}${values}`;
  }
}

/** Go's byte-wise string order (sort.Strings), not the locale's. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
