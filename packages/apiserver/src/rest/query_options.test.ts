import { describe, expect, it } from 'vitest';
import { refusal } from '../testing/refusal.js';
import { int64Param, parseInt64, resourceVersionParam } from './query_options.js';

describe('integer query parameters (strconv.ParseInt)', () => {
  it('accepts what Go accepts', () => {
    expect(parseInt64('500')).toBe(500);
    expect(parseInt64('-3')).toBe(-3);
    expect(parseInt64('+7')).toBe(7);
    expect(int64Param(new URLSearchParams(''), 'limit')).toBeUndefined();
  });

  it('refuses the rest with kube 400 BadRequest and Go error text', () => {
    expect(refusal(() => parseInt64('abc'))).toEqual({ code: 400, reason: 'BadRequest', message: 'strconv.ParseInt: parsing "abc": invalid syntax' });
    expect(refusal(() => parseInt64('1.5')).message).toBe('strconv.ParseInt: parsing "1.5": invalid syntax');
    expect(refusal(() => parseInt64('')).message).toBe('strconv.ParseInt: parsing "": invalid syntax');
    expect(refusal(() => parseInt64('99999999999999999999')).message).toBe('strconv.ParseInt: parsing "99999999999999999999": value out of range');
  });
});

describe('resourceVersion (strconv.ParseUint in the storage layer)', () => {
  const rv = (value: string): number | undefined => resourceVersionParam(new URLSearchParams({ resourceVersion: value }));

  it('reads "" and "0" as any, digits as a revision', () => {
    expect(rv('')).toBeUndefined();
    expect(rv('0')).toBeUndefined();
    expect(rv('42')).toBe(42);
  });

  it('refuses anything else with 400 "invalid resource version"', () => {
    expect(refusal(() => rv('abc'))).toEqual({ code: 400, reason: 'BadRequest', message: 'invalid resource version: strconv.ParseUint: parsing "abc": invalid syntax' });
    expect(refusal(() => rv('-1')).message).toBe('invalid resource version: strconv.ParseUint: parsing "-1": invalid syntax');
    expect(refusal(() => rv('18446744073709551616')).message).toBe('invalid resource version: strconv.ParseUint: parsing "18446744073709551616": value out of range');
  });
});
