import { describe, expect, it } from 'vitest';
import { expand, lookupIn } from './expansion.js';

const vars = lookupIn(new Map([['A', 'a'], ['EMPTY', '']]), new Map([['A', 'shadowed'], ['B', 'b']]));

describe('expand', () => {
  it.each([
    ['$(A)', 'a'],
    ['x$(A)y$(B)z', 'xaybz'],
    ['$(EMPTY)!', '!'],
    ['$(MISSING)', '$(MISSING)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$a'],
    ['$$', '$'],
    ['$', '$'],
    ['a$', 'a$'],
    ['$(A', '$(A'],
    ['$(', '$('],
    ['$x$(A)', '$xa'],
    ['no refs', 'no refs'],
    ['$()', '$()'],
  ])('%s → %s', (input, output) => {
    expect(expand(input, vars)).toBe(output);
  });
});
