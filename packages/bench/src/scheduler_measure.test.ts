import { describe, expect, it } from 'vitest';
import {
  BindLedger,
  checkFinalBindings,
  checkNodeCapacity,
  checkPlacement,
  computeThroughput,
  podRequests,
  schedulingLatency,
  summarizeFailedScheduling,
  throughputSamples,
} from './scheduler_measure.js';
import { ROLE_LABEL, type BenchNode, type BenchPod, type PlacementRule } from './scheduler_workloads.js';

const pod = (
  name: string,
  options: { node?: string; uid?: string; role?: 'measured' | 'fill'; labels?: Record<string, string>; cpu?: string; memory?: string; phase?: string; terminating?: boolean } = {},
): BenchPod => ({
  metadata: {
    name,
    uid: options.uid ?? `uid-${name}`,
    labels: { [ROLE_LABEL]: options.role ?? 'measured', ...options.labels },
    ...(options.terminating ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}),
  },
  spec: {
    ...(options.node === undefined ? {} : { nodeName: options.node }),
    containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: options.cpu ?? '100m', memory: options.memory ?? '500Mi' } } }],
  },
  ...(options.phase === undefined ? {} : { status: { phase: options.phase } }),
});

const node = (name: string, labels: Record<string, string> = {}, allocatable: Record<string, string> = { cpu: '1', memory: '1Gi', pods: '3' }): BenchNode => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
  status: { allocatable },
});

describe('SchedulingThroughput samples', () => {
  it("replay scheduler_perf's collector: first tick is the baseline, empty ticks fold into the next", () => {
    const start = 1000;
    // Binds 0.5 s after the start, then 3 in the second second, none in the third, 3 by the fourth.
    const binds = [500, 1200, 1500, 1800, 3100, 3500, 4000].map((ms) => start + ms);
    // tick 1 s: 1 bound (baseline); tick 2 s: +3 → 3/s; tick 3 s: +0 (folded); tick 4 s: +3 over 2 s → 1.5/s twice.
    expect(throughputSamples(binds, start)).toEqual([3, 1.5, 1.5]);
    const figures = computeThroughput(binds, start);
    expect(figures).toMatchObject({ bound: 7, firstBindMs: 500, lastBindMs: 4000, samples: [3, 1.5, 1.5], average: 2, p50: 1.5, p90: 3, p99: 3 });
    expect(figures.overallPerSecond).toBeCloseTo(7 / 4, 10);
    expect(figures.firstToLastPerSecond).toBeCloseTo(6 / 3.5, 10);
  });

  it('ignore ticks before the first bind and the trailing partial interval; order of binds does not matter', () => {
    const binds = [2500, 3200, 3300, 4100, 5000, 5400];
    // tick 1, 2: nothing; tick 3: baseline (1); tick 4: +2; tick 5: +2; 5.4 s is past the last tick.
    expect(throughputSamples([...binds].reverse(), 0)).toEqual([2, 2]);
    expect(computeThroughput(binds, 0, 500).samples).toEqual([
      // ticks each 0.5 s: 2.5 baseline(1); 3.0 +0; 3.5 +2 over 1 s (twice); 4.0 +0; 4.5 +1 over 1 s (twice); 5.0 +1 → 2/s.
      2, 2, 1, 1, 2,
    ]);
  });

  it('have no samples, and NaN statistics, for a run shorter than two intervals', () => {
    const figures = computeThroughput([100, 600, 900], 0);
    expect(figures.samples).toEqual([]);
    expect(figures.average).toBeNaN();
    expect(figures.p50).toBeNaN();
    expect(figures.overallPerSecond).toBeCloseTo(3 / 0.9, 10);
    expect(computeThroughput([], 0)).toMatchObject({ bound: 0, overallPerSecond: 0, samples: [] });
  });
});

describe('scheduling latency', () => {
  it('is start → bind seen per pod, binds seen before the start counting 0', () => {
    const latency = schedulingLatency([900, 1010, 1100, 1500, 3000], 1000);
    expect(latency).toMatchObject({ count: 5, minMs: 0, p50Ms: 100, maxMs: 2000 });
  });
});

describe('BindLedger', () => {
  const nodes = new Set(['n1', 'n2']);

  it('records the first bind of each measured pod and resolves when all are bound', async () => {
    const ledger = new BindLedger(2, nodes);
    ledger.observe('ADDED', pod('a'), 0);
    ledger.observe('ADDED', pod('f', { role: 'fill', node: 'n2' }), 0);
    ledger.observe('MODIFIED', pod('a', { node: 'n1' }), 10);
    ledger.observe('MODIFIED', pod('a', { node: 'n1' }), 20); // a status update: same node
    let done = false;
    const all = ledger.allBound().then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    ledger.observe('BOOKMARK', pod(''), 25);
    ledger.observe('MODIFIED', pod('b', { node: 'n2' }), 30);
    await all;
    expect(ledger.measuredBindTimes()).toEqual([10, 30]);
    expect(ledger.measuredBound).toBe(2);
    expect(ledger.measuredBoundBy(15)).toBe(1);
    expect(Object.fromEntries([...ledger.firstNodes()].map(([name, first]) => [name, first.node]))).toEqual({ a: 'n1', b: 'n2', f: 'n2' });
    expect(ledger.report()).toEqual({ count: 0, samples: [] });
  });

  it('objects to a pod bound twice, a node taken away, and an unknown node', () => {
    const ledger = new BindLedger(3, nodes);
    ledger.observe('MODIFIED', pod('a', { node: 'n1' }), 1);
    ledger.observe('MODIFIED', pod('a', { node: 'n2' }), 2);
    ledger.observe('MODIFIED', pod('b', { node: 'n1' }), 3);
    ledger.observe('MODIFIED', pod('b'), 4);
    ledger.observe('MODIFIED', pod('c', { node: 'n9' }), 5);
    expect(ledger.report().samples).toEqual([
      'pod a was bound twice: to n1, then to n2',
      'pod b lost its node n1',
      "pod c was bound to n9, which is not one of the run's nodes",
    ]);
    expect(ledger.measuredBindTimes()).toEqual([1, 3, 5]); // each pod counted once
  });

  it('objects to a measured pod deleted, counts fill pods deleted as victims, and takes a new uid as a new pod', () => {
    const ledger = new BindLedger(1, nodes);
    ledger.observe('MODIFIED', pod('f1', { role: 'fill', node: 'n1' }), 0);
    ledger.observe('DELETED', pod('f1', { role: 'fill', node: 'n1' }), 1);
    ledger.observe('DELETED', pod('f1', { role: 'fill', node: 'n1' }), 1); // seen again after a relist
    expect(ledger.fillDeleted).toBe(1);
    expect(ledger.report().count).toBe(0);
    ledger.observe('MODIFIED', pod('a', { node: 'n1', uid: 'u1' }), 2);
    ledger.observe('MODIFIED', pod('a', { node: 'n2', uid: 'u2' }), 3); // recreated, not moved
    expect(ledger.report().count).toBe(0);
    ledger.observe('DELETED', pod('a', { node: 'n2', uid: 'u2' }), 4);
    expect(ledger.measuredDeleted).toBe(1);
    expect(ledger.report().samples).toEqual(['measured pod a was deleted (it was on n2)']);
  });
});

describe('checkNodeCapacity', () => {
  const nodes = [node('n1'), node('n2')];

  it('accepts nodes within their allocatable cpu, memory and pods', () => {
    const pods = [pod('a', { node: 'n1', cpu: '400m', memory: '500Mi' }), pod('b', { node: 'n1', cpu: '600m', memory: '524Mi' }), pod('c')];
    expect(checkNodeCapacity(nodes, pods)).toEqual({ count: 0, samples: [] });
  });

  it('objects to cpu and memory over-commit, too many pods, and pods on nodes that do not exist', () => {
    const pods = [
      pod('a', { node: 'n1', cpu: '400m', memory: '500Mi' }),
      pod('b', { node: 'n1', cpu: '400m', memory: '500Mi' }),
      pod('c', { node: 'n1', cpu: '400m', memory: '500Mi', terminating: true }), // still holds its share
      pod('d', { node: 'n2', cpu: '0', memory: '0' }),
      pod('e', { node: 'n2', cpu: '0', memory: '0' }),
      pod('f', { node: 'n2', cpu: '0', memory: '0' }),
      pod('g', { node: 'n2', cpu: '0', memory: '0' }),
      pod('h', { node: 'n7' }),
    ];
    expect(checkNodeCapacity(nodes, pods).samples).toEqual([
      `node n1 is over its allocatable: cpu 1200m requested of 1000m, memory ${1500 * 2 ** 20} bytes requested of ${2 ** 30}`,
      'node n2 is over its allocatable: 4 pods of 3',
      '1 pods are bound to node n7, which does not exist',
    ]);
  });

  it('leaves out finished pods', () => {
    const pods = [pod('a', { node: 'n1', cpu: '900m' }), pod('b', { node: 'n1', cpu: '900m', phase: 'Succeeded' })];
    expect(checkNodeCapacity(nodes, pods).count).toBe(0);
  });

  it('counts a pod as the scheduler does: containers summed, or the largest init container, plus overhead; limits when no requests', () => {
    const spec = {
      containers: [
        { name: 'a', image: 'i', resources: { requests: { cpu: '100m', memory: '1Mi' } } },
        { name: 'b', image: 'i', resources: { limits: { cpu: '200m', memory: '2Mi' } } },
      ],
      initContainers: [{ name: 'init', image: 'i', resources: { requests: { cpu: '500m', memory: '1Mi' } } }],
      overhead: { cpu: '10m', memory: '1Mi' },
    };
    expect(podRequests({ spec })).toEqual({ cpuMillis: 510, memoryBytes: 4 * 2 ** 20 });
  });
});

describe('checkPlacement', () => {
  const antiAffinity: PlacementRule = { kind: 'anti-affinity', labels: { color: 'green' }, topologyKey: 'kubernetes.io/hostname' };
  const spread: PlacementRule = { kind: 'spread', labels: { color: 'blue' }, topologyKey: 'topology.kubernetes.io/zone', maxSkew: 5 };
  const green = { color: 'green' };
  const blue = { color: 'blue' };

  it('accepts anti-affine pods one per node, other pods beside them', () => {
    const pods = [pod('a', { node: 'n1', labels: green }), pod('b', { node: 'n2', labels: green }), pod('c', { node: 'n1', labels: blue })];
    const result = checkPlacement(antiAffinity, [node('n1'), node('n2')], pods);
    expect(result.anomalies.count).toBe(0);
    expect(result.summary).toBe('pods with color=green on 2 distinct kubernetes.io/hostname values, at most 1 on one');
  });

  it('objects to two anti-affine pods on one node', () => {
    const pods = [pod('a', { node: 'n1', labels: green }), pod('b', { node: 'n1', labels: green })];
    expect(checkPlacement(antiAffinity, [node('n1'), node('n2')], pods).anomalies.samples).toEqual([
      '2 pods with color=green share kubernetes.io/hostname=n1 despite their required anti-affinity',
    ]);
  });

  const zoned = [node('n1', { 'topology.kubernetes.io/zone': 'z0' }), node('n2', { 'topology.kubernetes.io/zone': 'z1' }), node('n3', { 'topology.kubernetes.io/zone': 'z2' })];
  const spreadPods = (counts: number[]): BenchPod[] => counts.flatMap((count, zone) => Array.from({ length: count }, (_, i) => pod(`p${zone}-${i}`, { node: `n${zone + 1}`, labels: blue })));

  it('accepts spread pods with a skew of at most maxSkew', () => {
    const result = checkPlacement(spread, zoned, spreadPods([6, 1, 2]));
    expect(result.anomalies.count).toBe(0);
    expect(result.summary).toBe('pods with color=blue per topology.kubernetes.io/zone: z0 6, z1 1, z2 2 (skew 5, maxSkew 5)');
  });

  it('objects to a skew over maxSkew, counting a zone without pods as 0', () => {
    expect(checkPlacement(spread, zoned, spreadPods([6, 1, 0])).anomalies.samples).toEqual([
      'pods with color=blue are skewed by 6 over topology.kubernetes.io/zone (maxSkew 5, DoNotSchedule): z0 6, z1 1, z2 0',
    ]);
  });

  it('checks nothing for workloads without a rule', () => {
    expect(checkPlacement({ kind: 'none' }, zoned, spreadPods([9, 0, 0]))).toEqual({ anomalies: { count: 0, samples: [] } });
  });
});

describe('checkFinalBindings', () => {
  const at = (p: BenchPod, resourceVersion: string): BenchPod => ({ ...p, metadata: { ...p.metadata, resourceVersion } });
  const first = new Map([
    ['a', { node: 'n1', version: '10' }],
    ['b', { node: 'n2', version: '11' }],
    ['c', { node: 'n2', version: '12' }],
  ]);

  it('objects to a measured pod that ends elsewhere, or on no node, than it was seen bound', () => {
    const final = [at(pod('a', { node: 'n1' }), '10'), at(pod('b', { node: 'n3' }), '20'), at(pod('c'), '21'), pod('d'), pod('f', { role: 'fill' })];
    expect(checkFinalBindings(first, final).samples).toEqual(['pod b was seen on n2 and ends on n3', 'pod c was seen on n2 and ends on no node']);
  });

  it('does not compare a listed pod older than the watch event that showed its bind', () => {
    const final = [at(pod('b'), '9'), at(pod('c', { node: 'n5' }), '11')];
    expect(checkFinalBindings(first, final).count).toBe(0);
  });
});

describe('FailedScheduling events', () => {
  it('are counted as objects and occurrences, with a few distinct messages', () => {
    const summary = summarizeFailedScheduling([
      { reason: 'FailedScheduling', count: 3, message: '0/5 nodes are available: 5 Insufficient cpu.' },
      { reason: 'FailedScheduling', series: { count: 2 }, message: '0/5 nodes are available: 5 Insufficient cpu.' },
      { reason: 'FailedScheduling', message: 'other' },
      { reason: 'Scheduled', count: 9 },
    ]);
    expect(summary).toEqual({ events: 3, occurrences: 6, messages: ['0/5 nodes are available: 5 Insufficient cpu.', 'other'] });
  });
});
