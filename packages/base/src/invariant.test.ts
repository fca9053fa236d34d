import { describe, expect, it } from 'vitest';
import { InvariantError, invariant } from './invariant.js';

describe('invariant', () => {
  it('throws an InvariantError with the message when the condition is false', () => {
    expect(() => invariant(false, 'invalid transition leader → candidate')).toThrow(new InvariantError('invalid transition leader → candidate'));
    try {
      invariant(0, () => 'lazy message');
    } catch (error) {
      expect(error).toBeInstanceOf(InvariantError);
      expect((error as Error).name).toBe('InvariantError');
      expect((error as Error).message).toBe('lazy message');
    }
    expect.assertions(4);
  });

  it('builds no message when the condition holds', () => {
    let built = 0;
    invariant(true, () => `built ${++built}`);
    expect(built).toBe(0);
  });
});
