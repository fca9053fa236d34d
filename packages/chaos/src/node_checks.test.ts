import { describe, expect, test } from 'vitest';
import { checkDeadNodePodsReplaced, checkNoNodeOvercommitted, type PlacementSample } from './node_checks.js';

describe('checkNoNodeOvercommitted', () => {
  const allocatable = { milliCpu: 1_000, memory: 1024 * 1024 * 1024, pods: 3 };
  const pod = (name: string, milliCpu: number, memoryMi: number) => ({ pod: name, requests: { milliCpu, memory: memoryMi * 1024 * 1024 } });

  test('passes nodes whose running pods fit their allocatable', () => {
    const verdict = checkNoNodeOvercommitted([{ atMs: 1_000, nodes: [{ node: 'node-1', allocatable, pods: [pod('a', 500, 512), pod('b', 500, 256)] }, { node: 'node-2', allocatable, pods: [] }] }]);
    expect(verdict).toMatchObject({ ok: true, detail: '2 looks at nodes\' running pods; the fullest, node-1, asked for 100% of its allocatable' });
  });

  test('objects to more cpu, memory or pods than allocatable on a node', () => {
    const verdict = checkNoNodeOvercommitted([
      { atMs: 1_000, nodes: [{ node: 'node-1', allocatable, pods: [pod('a', 600, 100), pod('b', 500, 100)] }] },
      { atMs: 2_000, nodes: [{ node: 'node-2', allocatable, pods: [pod('c', 0, 800), pod('d', 0, 300)] }] },
      { atMs: 3_000, nodes: [{ node: 'node-3', allocatable, pods: [pod('e', 0, 0), pod('f', 0, 0), pod('g', 0, 0), { pod: 'h' }] }] },
    ]);
    expect(verdict.ok).toBe(false);
    expect(verdict.detail.split('\n')).toEqual([
      'node-1 at 1.0 s: cpu 1100m of 1000m (a, b)',
      'node-2 at 2.0 s: memory 1100Mi of 1024Mi (c, d)',
      'node-3 at 3.0 s: 4 pods of 3 (e, f, g, h)',
    ]);
  });

  test('objects to having seen no node at all', () => {
    expect(checkNoNodeOvercommitted([{ atMs: 1_000, nodes: [{ node: 'node-1', pods: [] }] }]).ok).toBe(false);
  });
});

describe('checkDeadNodePodsReplaced', () => {
  const live = (name: string) => ({ name, ready: true });
  const tainted = (name: string, sinceMs: number) => ({ name, ready: false, noExecuteSinceMs: sinceMs, noExecuteKey: 'node.kubernetes.io/unreachable' });
  const pod = (name: string, node: string, ready: boolean, toleratesMs?: number) => ({ name, node, ready, deleting: false, ...(toleratesMs === undefined ? {} : { toleratesMs }) });
  const lost = (atMs: number, pods: PlacementSample['pods'], node2: PlacementSample['nodes'][number] = tainted('node-2', 10_000)): PlacementSample => ({ atMs, desired: 2, nodes: [live('node-1'), node2], pods });

  test('passes when no node was tainted, or one came back before its pods were due out, or its pods tolerate it forever', () => {
    expect(checkDeadNodePodsReplaced([lost(1_000, [pod('a', 'node-1', true)], live('node-2'))], 60_000)).toMatchObject({ ok: true, detail: expect.stringMatching(/no Node was lost long enough/) });
    const back = checkDeadNodePodsReplaced([lost(11_000, [pod('a', 'node-1', true), pod('b', 'node-2', true, 15_000)]), lost(20_000, []), lost(30_000, [], live('node-2'))], 60_000);
    expect(back).toMatchObject({ ok: true, detail: expect.stringMatching(/node-2 .*: back before its pods were due to be evicted at 25.0 s/) });
    expect(checkDeadNodePodsReplaced([lost(11_000, [pod('b', 'node-2', true, Infinity)]), lost(90_000, [])], 60_000)).toMatchObject({ ok: true, detail: expect.stringMatching(/tolerate the taint forever/) });
    // Due after the run: back already by its end, or still out.
    expect(checkDeadNodePodsReplaced([lost(11_000, [pod('b', 'node-2', true, 300_000)]), lost(20_000, [], live('node-2'))], 60_000)).toMatchObject({ ok: true, detail: expect.stringMatching(/back before its pods were due/) });
    expect(checkDeadNodePodsReplaced([lost(11_000, [pod('b', 'node-2', true, 300_000)]), lost(20_000, [])], 60_000)).toMatchObject({ ok: true, detail: expect.stringMatching(/eviction due at 310.0 s, after the run/) });
  });

  test('passes when the pods are ready on live nodes within the bound after they were due out', () => {
    const samples = [
      lost(11_000, [pod('a', 'node-1', true), pod('b', 'node-2', true, 15_000)]),
      lost(26_000, [pod('a', 'node-1', true), pod('c', 'node-1', false)]),
      lost(30_000, [pod('a', 'node-1', true), pod('c', 'node-1', true)]),
    ];
    expect(checkDeadNodePodsReplaced(samples, 60_000)).toMatchObject({ ok: true, detail: expect.stringMatching(/due out at 25.0 s, 2\/2 ready on live nodes 5.0 s later/) });
  });

  test('objects when the pods were not replaced within the bound (or only on the dead node)', () => {
    const samples = [
      lost(11_000, [pod('a', 'node-1', true), pod('b', 'node-2', true, 0)]),
      lost(30_000, [pod('a', 'node-1', true), pod('b', 'node-2', true, 0)]),
      lost(80_000, [pod('a', 'node-1', true), pod('c', 'node-1', false)]),
      lost(90_000, [pod('a', 'node-1', true), pod('c', 'node-1', true)]),
    ];
    const verdict = checkDeadNodePodsReplaced(samples, 60_000);
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toMatch(/node-2 \(tainted node.kubernetes.io\/unreachable at 10.0 s\): pods \(b\) due out at 10.0 s, not replaced within 60.0 s: last seen 1\/2 ready on live nodes/);
  });
});
