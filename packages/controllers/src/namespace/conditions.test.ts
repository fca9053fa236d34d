import type { NamespaceStatus } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { CONDITION_TYPES, NamespaceConditionUpdater } from './conditions.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:01:00Z';

function pass(now: string, setup: (updater: NamespaceConditionUpdater) => void, status: NamespaceStatus): boolean {
  const updater = new NamespaceConditionUpdater(now);
  setup(updater);
  return updater.update(status);
}

const condition = (status: NamespaceStatus, type: string) => status.conditions?.find((c) => c.type === type);

describe("namespace deletion conditions (upstream's namespaceConditionUpdater)", () => {
  test('content remaining, by resource and by finalizer, with upstream messages', () => {
    const status: NamespaceStatus = { phase: 'Terminating' };
    const changed = pass(
      T0,
      (updater) =>
        updater.contentTotals({
          remainingByResource: new Map([
            ['pods.', 2],
            ['deployments.apps', 1],
          ]),
          remainingByFinalizer: new Map([['example.com/hold', 3]]),
        }),
      status,
    );
    expect(changed).toBe(true);
    expect(status.conditions?.map((c) => c.type)).toEqual([...CONDITION_TYPES]);
    expect(condition(status, 'NamespaceContentRemaining')).toEqual({
      type: 'NamespaceContentRemaining',
      status: 'True',
      lastTransitionTime: T0,
      reason: 'SomeResourcesRemain',
      message: 'Some resources are remaining: deployments.apps has 1 resource instances, pods. has 2 resource instances',
    });
    expect(condition(status, 'NamespaceFinalizersRemaining')).toMatchObject({
      status: 'True',
      reason: 'SomeFinalizersRemain',
      message: 'Some content in the namespace has finalizers remaining: example.com/hold in 3 resource instances',
    });
    expect(condition(status, 'NamespaceDeletionDiscoveryFailure')).toMatchObject({ status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' });
    expect(condition(status, 'NamespaceDeletionGroupVersionParsingFailure')).toMatchObject({ status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' });
    expect(condition(status, 'NamespaceDeletionContentFailure')).toMatchObject({ status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' });
  });

  test('delete errors are listed once each, sorted, with their count', () => {
    const status: NamespaceStatus = {};
    pass(T0, (updater) => updater.deleteContentFailed(['b failed', 'a failed', 'b failed']), status);
    expect(condition(status, 'NamespaceDeletionContentFailure')).toMatchObject({
      status: 'True',
      reason: 'ContentDeletionFailed',
      message: 'Failed to delete all resource types, 3 remaining: a failed, b failed',
    });
  });

  test('discovery and group-version failures', () => {
    const status: NamespaceStatus = {};
    pass(T0, (updater) => (updater.discoveryFailed('boom'), updater.groupVersionParsingFailed('bad gv')), status);
    expect(condition(status, 'NamespaceDeletionDiscoveryFailure')).toMatchObject({ status: 'True', reason: 'DiscoveryFailed', message: 'boom' });
    expect(condition(status, 'NamespaceDeletionGroupVersionParsingFailure')).toMatchObject({ status: 'True', reason: 'GroupVersionParsingFailed', message: 'bad gv' });
  });

  test('the same findings again change nothing; a flip moves lastTransitionTime, a new message does not', () => {
    const status: NamespaceStatus = {};
    const remaining = (count: number) => (updater: NamespaceConditionUpdater) =>
      updater.contentTotals({ remainingByResource: new Map([['pods.', count]]), remainingByFinalizer: new Map() });
    pass(T0, remaining(2), status);
    expect(pass(T1, remaining(2), status)).toBe(false);
    expect(pass(T1, remaining(1), status)).toBe(true);
    expect(condition(status, 'NamespaceContentRemaining')).toMatchObject({ status: 'True', lastTransitionTime: T0, message: 'Some resources are remaining: pods. has 1 resource instances' });
    expect(pass(T1, () => undefined, status)).toBe(true);
    expect(condition(status, 'NamespaceContentRemaining')).toMatchObject({ status: 'False', lastTransitionTime: T1, reason: 'ContentRemoved', message: 'All content successfully removed' });
  });

  test('counts of zero are not reported', () => {
    const status: NamespaceStatus = {};
    pass(T0, (updater) => updater.contentTotals({ remainingByResource: new Map([['pods.', 0]]), remainingByFinalizer: new Map([['x', 0]]) }), status);
    expect(condition(status, 'NamespaceContentRemaining')?.status).toBe('False');
    expect(condition(status, 'NamespaceFinalizersRemaining')?.status).toBe('False');
  });
});
