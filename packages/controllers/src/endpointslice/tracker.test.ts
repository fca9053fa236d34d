import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { describe, expect, test } from 'vitest';
import { EndpointSliceTracker, compareVersions } from './tracker.js';

const slice = (uid: string, resourceVersion: string): EndpointSlice => ({ addressType: 'IPv4', endpoints: [], metadata: { name: uid, uid, resourceVersion } });
const KEY = 'default/web';

describe('EndpointSliceTracker', () => {
  test('a cache older than our write, missing our write, or holding a slice we deleted is stale', () => {
    const tracker = new EndpointSliceTracker();
    expect(tracker.staleSlices(KEY, [slice('a', '5')])).toBe(false);
    tracker.update(KEY, slice('a', '9'));
    expect(tracker.staleSlices(KEY, [slice('a', '5')])).toBe(true);
    expect(tracker.staleSlices(KEY, [])).toBe(true);
    expect(tracker.staleSlices(KEY, [slice('a', '9')])).toBe(false);
    expect(tracker.staleSlices(KEY, [slice('a', '12')])).toBe(false);
    tracker.expectDeletion(KEY, slice('a', '9'));
    expect(tracker.staleSlices(KEY, [slice('a', '9')])).toBe(true);
    expect(tracker.staleSlices(KEY, [])).toBe(false);
  });

  test('our own write echoing back is not news; someone else’s change or delete is', () => {
    const tracker = new EndpointSliceTracker();
    expect(tracker.shouldSync(KEY, slice('a', '3'))).toBe(true);
    tracker.update(KEY, slice('a', '9'));
    expect(tracker.shouldSync(KEY, slice('a', '9'))).toBe(false);
    expect(tracker.shouldSync(KEY, slice('a', '8'))).toBe(false);
    expect(tracker.shouldSync(KEY, slice('a', '10'))).toBe(true);
    expect(tracker.handleDeletion(KEY, slice('a', '10'))).toBe(false);
    tracker.update(KEY, slice('b', '11'));
    tracker.expectDeletion(KEY, slice('b', '11'));
    expect(tracker.handleDeletion(KEY, slice('b', '11'))).toBe(true);
    expect(tracker.has(KEY, slice('b', '11'))).toBe(false);
  });

  test('resourceVersions compare as numbers', () => {
    expect(compareVersions('10', '9')).toBe(1);
    expect(compareVersions('9', '10')).toBe(-1);
    expect(compareVersions('123456789012345678901', '123456789012345678901')).toBe(0);
  });
});
