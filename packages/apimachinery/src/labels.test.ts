import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import {
  labelSelectorToString,
  matchesLabelSelector,
  matchesLabels,
  parseLabelSelector,
  requirementsFromLabelSelector,
  requirementsToString,
} from './labels.js';

function parseError(text: string): ApiError {
  try {
    parseLabelSelector(text);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('parseLabelSelector', () => {
  it.each([
    ['', []],
    ['app=web', [{ key: 'app', operator: '=', values: ['web'] }]],
    ['app==web', [{ key: 'app', operator: '==', values: ['web'] }]],
    ['app!=web', [{ key: 'app', operator: '!=', values: ['web'] }]],
    ['tier in (b, a)', [{ key: 'tier', operator: 'in', values: ['a', 'b'] }]],
    ['tier notin (x)', [{ key: 'tier', operator: 'notin', values: ['x'] }]],
    ['canary', [{ key: 'canary', operator: 'exists', values: [] }]],
    ['!canary', [{ key: 'canary', operator: '!', values: [] }]],
    ['app=', [{ key: 'app', operator: '=', values: [''] }]],
    ['x in ()', [{ key: 'x', operator: 'in', values: [''] }]],
    ['x in (a,,b)', [{ key: 'x', operator: 'in', values: ['', 'a', 'b'] }]],
    ['replicas>2', [{ key: 'replicas', operator: 'gt', values: ['2'] }]],
    ['example.com/role=db', [{ key: 'example.com/role', operator: '=', values: ['db'] }]],
  ])('parses %j', (text, expected) => {
    expect(parseLabelSelector(text)).toEqual(expected);
  });

  it('tolerates whitespace and sorts requirements by key', () => {
    expect(parseLabelSelector('  tier = web ,\tapp in ( a , b ) , !z ')).toEqual([
      { key: 'app', operator: 'in', values: ['a', 'b'] },
      { key: 'tier', operator: '=', values: ['web'] },
      { key: 'z', operator: '!', values: [] },
    ]);
  });

  it('reads "in" as a value where a value is expected', () => {
    expect(parseLabelSelector('x in (in,notin)')).toEqual([{ key: 'x', operator: 'in', values: ['in', 'notin'] }]);
  });

  it('answers a bad key as kube-apiserver does (400, "<nil>" path)', () => {
    const error = parseError('app:monolith');
    expect(error.code).toBe(400);
    expect(error.reason).toBe('BadRequest');
    expect(error.message).toBe(
      `unable to parse requirement: <nil>: Invalid value: "app:monolith": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    );
  });

  it('names the prefix part of a bad qualified key', () => {
    expect(parseError('app.kubernetes_io/name=x').message).toContain(
      'unable to parse requirement: <nil>: Invalid value: "app.kubernetes_io/name": prefix part a lowercase RFC 1123 subdomain',
    );
  });

  it('rejects a bad value with its upstream path', () => {
    expect(parseError('app=-web').message).toMatch(
      /^unable to parse requirement: values\[0\]\[app\]: Invalid value: "-web": a valid label must be an empty string/,
    );
    expect(parseError(`app=${'v'.repeat(64)}`).message).toContain('must be no more than 63 characters');
  });

  it.each([
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['x in a', "unable to parse requirement: found 'a' expected: '('"],
    ['x in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['a=(', "unable to parse requirement: found '(', expected: identifier"],
    ['a>b', "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer"],
  ])('rejects %j with %j', (text, message) => {
    expect(parseError(text).message).toBe(message);
  });
});

describe('matchesLabels', () => {
  const labels = { app: 'web', tier: 'front', replicas: '3' };
  it.each([
    ['', true],
    ['app=web', true],
    ['app=db', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['tier in (front,back)', true],
    ['tier notin (front)', false],
    ['missing notin (x)', true],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['app=web,tier=back', false],
    ['replicas>2', true],
    ['replicas<3', false],
    ['app>1', false],
  ])('%j on app=web,tier=front,replicas=3 is %s', (text, expected) => {
    expect(matchesLabels(parseLabelSelector(text), labels)).toBe(expected);
  });

  it('treats absent labels as an empty set', () => {
    expect(matchesLabels(parseLabelSelector('!app'), undefined)).toBe(true);
    expect(matchesLabels(parseLabelSelector('app'), undefined)).toBe(false);
  });
});

describe('LabelSelector objects', () => {
  const selector = {
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['b', 'a'] },
      { key: 'canary', operator: 'DoesNotExist' },
      { key: 'env', operator: 'Exists' },
      { key: 'zone', operator: 'NotIn', values: ['z1'] },
    ],
  };

  it('prints as kubectl -o wide SELECTOR does (sorted keys and values)', () => {
    expect(labelSelectorToString({ matchLabels: { app: 'web' } })).toBe('app=web');
    expect(labelSelectorToString({ matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }] })).toBe('app in (a,b)');
    expect(labelSelectorToString(selector)).toBe('app=web,!canary,env,tier in (a,b),zone notin (z1)');
    expect(labelSelectorToString({})).toBe('');
    expect(labelSelectorToString(undefined)).toBe('');
  });

  it('matches like the string form', () => {
    const requirements = requirementsFromLabelSelector(selector);
    expect(requirementsToString(requirements)).toBe('app=web,!canary,env,tier in (a,b),zone notin (z1)');
    expect(matchesLabels(requirements, { app: 'web', tier: 'a', env: 'prod' })).toBe(true);
    expect(matchesLabels(requirements, { app: 'web', tier: 'a', env: 'prod', canary: 'y' })).toBe(false);
  });

  it('selects nothing without a selector and everything with an empty one', () => {
    expect(matchesLabelSelector(undefined, { app: 'web' })).toBe(false);
    expect(matchesLabelSelector({}, { app: 'web' })).toBe(true);
  });

  it('rejects an unknown operator', () => {
    expect(() => requirementsFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Foo' }] })).toThrow(
      '"Foo" is not a valid label selector operator',
    );
  });
});
