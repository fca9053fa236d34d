import { formatTime } from '@k8ts/apimachinery';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { POD_DELETION_COST_ANNOTATION, compareForDeletion, deletionCost, podsToDelete } from './ranking.js';

const NOW = Date.parse('2024-06-01T12:00:00Z');
const ago = (seconds: number): string => formatTime(NOW - seconds * 1000);

interface PodShape {
  node?: string;
  phase?: string;
  readySecondsAgo?: number;
  restarts?: number;
  createdSecondsAgo?: number;
  cost?: string;
  uid?: string;
}

function pod(name: string, shape: PodShape = {}): Pod {
  const conditions = shape.readySecondsAgo === undefined ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: ago(shape.readySecondsAgo) }];
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: shape.uid ?? `uid-${name}`,
      creationTimestamp: ago(shape.createdSecondsAgo ?? 3600),
      ...(shape.cost !== undefined ? { annotations: { [POD_DELETION_COST_ANNOTATION]: shape.cost } } : {}),
    },
    spec: { containers: [{ name: 'c' }], ...(shape.node !== undefined ? { nodeName: shape.node } : {}) },
    status: { phase: shape.phase ?? 'Running', conditions, containerStatuses: [{ name: 'c', restartCount: shape.restarts ?? 0 } as never] },
  };
}

/** The name of the one pod deleted out of `pods`. */
const firstVictim = (pods: Pod[], related: Pod[] = []): string | undefined => podsToDelete(pods, related, 1, NOW)[0]?.metadata?.name;

describe('deletion ranking (upstream ActivePodsWithRanks)', () => {
  const ready = { node: 'n1', readySecondsAgo: 600 };

  test('1. a pod on no node goes before an assigned one, whatever else', () => {
    expect(firstVictim([pod('assigned', { node: 'n1', phase: 'Pending' }), pod('unassigned', { readySecondsAgo: 600 })])).toBe('unassigned');
  });

  test('2. Pending < Unknown < Running', () => {
    expect(firstVictim([pod('running', ready), pod('unknown', { node: 'n1', phase: 'Unknown' }), pod('pending', { node: 'n1', phase: 'Pending' })])).toBe('pending');
    expect(firstVictim([pod('running', { node: 'n1' }), pod('unknown', { node: 'n1', phase: 'Unknown' })])).toBe('unknown');
  });

  test('3. not ready < ready', () => {
    expect(firstVictim([pod('ready', ready), pod('not-ready', { node: 'n1' })])).toBe('not-ready');
  });

  test('4. lower pod-deletion-cost < higher, before crowding', () => {
    expect(firstVictim([pod('cheap', { ...ready, cost: '-5' }), pod('dear', { ...ready, cost: '10', node: 'n2' })], [pod('x', { node: 'n2' }), pod('y', { node: 'n2' })])).toBe('cheap');
    expect(deletionCost(pod('bad', { cost: 'ten' }))).toBe(0);
    expect(deletionCost(pod('big', { cost: '9999999999' }))).toBe(0);
    expect(deletionCost(pod('plus', { cost: '+7' }))).toBe(7);
  });

  test('5. more related pods on the same node (crowded) goes first', () => {
    const onA = pod('on-a', { node: 'a', readySecondsAgo: 600 });
    const onB = pod('on-b', { node: 'b', readySecondsAgo: 10 });
    const related = [onA, onB, pod('sibling-1', { node: 'a' }), pod('sibling-2', { node: 'a' })];
    expect(firstVictim([onA, onB], related)).toBe('on-a');
    // Related pods that are not active do not crowd a node.
    const finished = [onA, onB, { ...pod('done', { node: 'a' }), status: { phase: 'Succeeded' } }];
    expect(firstVictim([onA, onB], finished)).toBe('on-b');
  });

  test('6. ready for less time goes first (in power-of-two buckets; the same bucket falls to the uid)', () => {
    expect(firstVictim([pod('old', { node: 'n1', readySecondsAgo: 3600 }), pod('young', { node: 'n1', readySecondsAgo: 10 })])).toBe('young');
    // 600 s and 601 s fall in one bucket: the smaller uid goes first, not the younger.
    expect(firstVictim([pod('p600', { node: 'n1', readySecondsAgo: 600, uid: 'b' }), pod('p601', { node: 'n1', readySecondsAgo: 601, uid: 'a' })])).toBe('p601');
  });

  test('7. more restarts goes first', () => {
    expect(firstVictim([pod('steady', { ...ready, restarts: 0 }), pod('flappy', { ...ready, restarts: 4 })])).toBe('flappy');
  });

  test('8. newer goes first', () => {
    expect(firstVictim([pod('older', { ...ready, createdSecondsAgo: 86_400 }), pod('newer', { ...ready, createdSecondsAgo: 700 })])).toBe('newer');
  });

  test('earlier rules win over later ones', () => {
    // Not ready but old and steady beats ready, new and restarting.
    expect(firstVictim([pod('ready-new-flappy', { node: 'n1', readySecondsAgo: 5, restarts: 9, createdSecondsAgo: 6 }), pod('not-ready-old', { node: 'n1', createdSecondsAgo: 86_400 })])).toBe(
      'not-ready-old',
    );
  });

  test('a full sort puts the least valuable first and asks for at most what exists', () => {
    const pods = [pod('ready', ready), pod('pending', { node: 'n1', phase: 'Pending' }), pod('unassigned', { phase: 'Pending' }), pod('not-ready', { node: 'n1' })];
    expect(podsToDelete(pods, pods, 3, NOW).map((p) => p.metadata?.name)).toEqual(['unassigned', 'pending', 'not-ready']);
    expect(podsToDelete(pods, pods, 9, NOW)).toHaveLength(4);
    const [a, b] = [pod('a', ready), pod('b', ready)];
    expect(compareForDeletion({ pod: a, rank: 0 }, { pod: a, rank: 0 }, NOW)).toBe(0);
    expect(Math.sign(compareForDeletion({ pod: a, rank: 2 }, { pod: b, rank: 1 }, NOW))).toBe(-1);
  });
});
