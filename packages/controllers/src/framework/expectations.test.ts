import { FakeClock } from '@k8ts/base';
import { describe, expect, test } from 'vitest';
import { ControllerExpectations, EXPECTATIONS_TIMEOUT_MS } from './expectations.js';

describe('controller expectations (client-go ControllerExpectations)', () => {
  test('a key that never set expectations may act', () => {
    expect(new ControllerExpectations(new FakeClock()).satisfied('ns/rs')).toBe(true);
  });

  test('creations hold the key back until each is observed', () => {
    const expectations = new ControllerExpectations(new FakeClock());
    expectations.expectCreations('ns/rs', 2);
    expect(expectations.satisfied('ns/rs')).toBe(false);
    expectations.creationObserved('ns/rs');
    expect(expectations.satisfied('ns/rs')).toBe(false);
    expectations.creationObserved('ns/rs');
    expect(expectations.satisfied('ns/rs')).toBe(true);
    expect(expectations.satisfied('ns/other')).toBe(true);
  });

  test('observing more than expected stays satisfied (a pod seen after its failed-create was written off)', () => {
    const expectations = new ControllerExpectations(new FakeClock());
    expectations.expectCreations('ns/rs', 1);
    expectations.creationObserved('ns/rs');
    expectations.creationObserved('ns/rs');
    expect(expectations.pending('ns/rs')).toEqual({ add: -1, del: 0 });
    expect(expectations.satisfied('ns/rs')).toBe(true);
  });

  test('a deletion counts once, and only for a pod the key meant to delete', () => {
    const expectations = new ControllerExpectations(new FakeClock());
    expectations.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    expectations.deletionObserved('ns/rs', 'ns/a');
    // The same pod seen again (its deletionTimestamp, then its removal) and a pod never asked for.
    expectations.deletionObserved('ns/rs', 'ns/a');
    expectations.deletionObserved('ns/rs', 'ns/c');
    expect(expectations.pending('ns/rs')).toEqual({ add: 0, del: 1 });
    expect(expectations.satisfied('ns/rs')).toBe(false);
    expectations.deletionObserved('ns/rs', 'ns/b');
    expect(expectations.satisfied('ns/rs')).toBe(true);
  });

  test('new expectations replace the old ones', () => {
    const expectations = new ControllerExpectations(new FakeClock());
    expectations.expectDeletions('ns/rs', ['ns/a']);
    expectations.expectCreations('ns/rs', 3);
    expect(expectations.pending('ns/rs')).toEqual({ add: 3, del: 0 });
    expectations.deletionObserved('ns/rs', 'ns/a');
    expect(expectations.pending('ns/rs')).toEqual({ add: 3, del: 0 });
  });

  test('unmet expectations expire after the 5-minute TTL, as upstream', () => {
    const clock = new FakeClock(1_000);
    const expectations = new ControllerExpectations(clock);
    expectations.expectCreations('ns/rs', 5);
    clock.advance(EXPECTATIONS_TIMEOUT_MS);
    expect(expectations.satisfied('ns/rs')).toBe(false);
    clock.advance(1);
    expect(expectations.satisfied('ns/rs')).toBe(true);
  });

  test('delete forgets the key', () => {
    const expectations = new ControllerExpectations(new FakeClock());
    expectations.expectCreations('ns/rs', 1);
    expectations.delete('ns/rs');
    expect(expectations.satisfied('ns/rs')).toBe(true);
    expect(expectations.pending('ns/rs')).toBeUndefined();
  });
});
