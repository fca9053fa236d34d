import { seededRandom } from '@k8ts/base';
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../framework/cycle_state.js';
import type { FilterPlugin, PostFilterPlugin, PreFilterPlugin, ScorePlugin } from '../framework/interfaces.js';
import type { NodeInfo } from '../framework/node_info.js';
import { Code, Status } from '../framework/status.js';
import { node, pod } from '../testing/builders.js';
import type { Framework } from './framework.js';
import {
  FitError,
  NoNodesAvailableError,
  SchedulingAlgorithm,
  SchedulingError,
  fitErrorOnNode,
  numFeasibleNodesToFind,
  runPostFilter,
  selectHost,
  type ScheduleResult,
} from './schedule_one.js';
import { frameworkWith } from './test_support.js';

function nodesNamed(count: number): NodeInfo[] {
  return Array.from({ length: count }, (_, i) => node(`n${i}`).info());
}

const thePod = pod('p').build();

/** A Filter that rejects the named nodes with `reason` and records every node it sees. */
function rejecting(reasons: Record<string, string>, seen: string[] = [], name = 'Reject'): FilterPlugin {
  return {
    name,
    filter: (_state, _pod, nodeInfo) => {
      seen.push(nodeInfo.name);
      const reason = reasons[nodeInfo.name];
      return reason === undefined ? Status.success() : Status.unschedulable(reason);
    },
  };
}

function scoring(scores: Record<string, number>, calls: string[] = []): ScorePlugin {
  return {
    name: 'Score',
    score: (_state, _pod, nodeInfo) => {
      calls.push(nodeInfo.name);
      return { score: scores[nodeInfo.name] ?? 0, status: Status.success() };
    },
  };
}

function nominatedTo(nodeName: string): Pod {
  const built = pod('p').build();
  return { ...built, status: { ...built.status, nominatedNodeName: nodeName } };
}

function schedule(algorithm: SchedulingAlgorithm, fwk: Framework, p: Pod = thePod): ScheduleResult | FitError {
  return algorithm.schedulePod(fwk, new CycleState(), p);
}

function expectScheduled(outcome: ScheduleResult | FitError): ScheduleResult {
  if (outcome instanceof FitError) throw new Error(`expected a node, got: ${outcome.message()}`);
  return outcome;
}

function expectFitError(outcome: ScheduleResult | FitError): FitError {
  if (!(outcome instanceof FitError)) throw new Error(`expected a FitError, got node ${outcome.suggestedHost}`);
  return outcome;
}

describe('numFeasibleNodesToFind', () => {
  // Upstream (schedule_one.go numFeasibleNodesToFind): below 100 nodes, all of them; with percentage 0,
  // percentage = max(50 - nodes/125, 5) in integer arithmetic; then nodes*percentage/100, at least 100.
  it.each([
    [0, 0, 0],
    [0, 50, 50],
    [0, 99, 99],
    [0, 100, 100], // 50% is 50, raised to the minimum of 100
    [0, 250, 120], // 50 - 2 = 48%
    [0, 1000, 420], // 50 - 8 = 42%
    [0, 5000, 500], // 50 - 40 = 10%
    [0, 6000, 300], // 50 - 48 = 2%, raised to 5%
    [0, 10000, 500], // negative, raised to 5%
    [30, 1000, 300],
    [10, 500, 100], // 50, raised to 100
    [100, 5000, 5000],
  ])('percentage %i of %i nodes: %i', (percentage, nodes, expected) => {
    expect(numFeasibleNodesToFind(percentage, nodes)).toBe(expected);
  });
});

describe('FitError.message', () => {
  const withStatuses = (numAllNodes: number, statuses: Array<[string, Status]>, messages: { preFilterMsg?: string; postFilterMsg?: string } = {}): FitError =>
    new FitError(thePod, numAllNodes, {
      nodeToStatus: new Map(statuses),
      unschedulablePlugins: new Set(),
      preFilterMsg: messages.preFilterMsg ?? '',
      postFilterMsg: messages.postFilterMsg ?? '',
    });
  const taint = Status.unresolvable('node(s) had untolerated taint {k: v}');
  const cpu = Status.unschedulable('Insufficient cpu');

  it.each([
    [
      'counts reasons over nodes and sorts the "<count> <reason>" strings',
      withStatuses(5, [
        ['n1', cpu],
        ['n2', cpu],
        ['n3', cpu],
        ['n4', taint],
        ['n5', taint],
      ]),
      '0/5 nodes are available: 2 node(s) had untolerated taint {k: v}, 3 Insufficient cpu.',
    ],
    [
      'counts every reason of a node',
      withStatuses(2, [
        ['n1', Status.unschedulable('Insufficient cpu', 'Insufficient memory')],
        ['n2', Status.unschedulable('Insufficient memory')],
      ]),
      '0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.',
    ],
    [
      'sorts counts as strings, as upstream does',
      withStatuses(12, [
        ...Array.from({ length: 10 }, (_, i): [string, Status] => [`a${i}`, Status.unschedulable('Too many pods')]),
        ['b1', cpu],
        ['b2', cpu],
      ]),
      '0/12 nodes are available: 10 Too many pods, 2 Insufficient cpu.',
    ],
    [
      'says only the PreFilter message when PreFilter rejected the pod',
      withStatuses(3, [['n1', taint]], { preFilterMsg: "node(s) didn't satisfy plugin NodeAffinity" }),
      "0/3 nodes are available: node(s) didn't satisfy plugin NodeAffinity.",
    ],
    [
      'appends the PostFilter message',
      withStatuses(2, [
        ['n1', cpu],
        ['n2', taint],
      ], { postFilterMsg: 'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.' }),
      '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {k: v}. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
    ],
  ])('%s', (_name, error, message) => {
    expect(error.message()).toBe(message);
  });

  it('for a rejection on the chosen node counts one node', () => {
    const error = fitErrorOnNode(thePod, 'n1', Status.unschedulable('waiting for the gang').withPlugin('Gang'));
    expect(error.message()).toBe('0/1 nodes are available: 1 waiting for the gang.');
    expect([...error.diagnosis.unschedulablePlugins]).toEqual(['Gang']);
  });
});

describe('selectHost', () => {
  const four = nodesNamed(4);

  it('picks the highest total', () => {
    expect(selectHost(four, [10, 40, 30, 20], Math.random)).toBe('n1');
  });

  it('breaks ties uniformly at random, reproducibly for a seed', () => {
    const tied = [5, 9, 9, 9];
    const pick = (seed: number): string[] => {
      const random = seededRandom(seed);
      return Array.from({ length: 3000 }, () => selectHost(four, tied, random));
    };
    const picks = pick(7);
    expect(pick(7)).toEqual(picks);
    const counts = new Map<string, number>();
    for (const name of picks) counts.set(name, (counts.get(name) ?? 0) + 1);
    expect(counts.has('n0')).toBe(false);
    for (const name of ['n1', 'n2', 'n3']) {
      expect(counts.get(name)).toBeGreaterThan(900);
      expect(counts.get(name)).toBeLessThan(1100);
    }
  });
});

describe('SchedulingAlgorithm.schedulePod', () => {
  it('picks the best-scored feasible node', () => {
    const nodes = nodesNamed(4);
    const fwk = frameworkWith([rejecting({ n3: 'Insufficient cpu' }), scoring({ n0: 10, n1: 30, n2: 20, n3: 100 })], { nodes });
    expect(schedule(new SchedulingAlgorithm(), fwk)).toEqual({ suggestedHost: 'n1', evaluatedNodes: 4, feasibleNodes: 3 });
  });

  it('does not score when a single node is feasible', () => {
    const nodes = nodesNamed(3);
    const scored: string[] = [];
    const fwk = frameworkWith([rejecting({ n0: 'x', n2: 'y' }), scoring({}, scored)], { nodes });
    expect(schedule(new SchedulingAlgorithm(), fwk)).toEqual({ suggestedHost: 'n1', evaluatedNodes: 3, feasibleNodes: 1 });
    expect(scored).toEqual([]);
  });

  it('stops filtering once enough feasible nodes are found and starts the next cycle after them', () => {
    const nodes = nodesNamed(200);
    const seen: string[] = [];
    const fwk = frameworkWith([rejecting({}, seen), scoring({})], { nodes, percentageOfNodesToScore: 50 });
    const algorithm = new SchedulingAlgorithm({ random: seededRandom(1) });
    const first = expectScheduled(schedule(algorithm, fwk));
    expect(first.feasibleNodes).toBe(100);
    expect(seen).toHaveLength(100);
    expect(algorithm.nextStartNodeIndex).toBe(100);
    seen.length = 0;
    schedule(algorithm, fwk);
    expect(seen[0]).toBe('n100');
    expect(seen.at(-1)).toBe('n199');
    expect(algorithm.nextStartNodeIndex).toBe(0);
  });

  it('rotates the start node by the nodes each cycle processed, rejected ones included', () => {
    // Without Score plugins one feasible node is enough.
    const nodes = nodesNamed(5);
    const fwk = frameworkWith([rejecting({ n1: 'busy' })], { nodes });
    const algorithm = new SchedulingAlgorithm();
    const hosts = Array.from({ length: 5 }, () => expectScheduled(schedule(algorithm, fwk)).suggestedHost);
    expect(hosts).toEqual(['n0', 'n2', 'n3', 'n4', 'n0']);
  });

  it('filters only the nodes PreFilter allows, and blames it for the others', () => {
    const nodes = nodesNamed(5);
    const seen: string[] = [];
    const narrow: PreFilterPlugin = { name: 'Narrow', preFilter: () => ({ result: { nodeNames: new Set(['n2', 'n4', 'gone']) }, status: Status.success() }) };
    const fwk = frameworkWith([narrow, rejecting({ n2: 'Insufficient cpu', n4: 'Insufficient cpu' }, seen)], { nodes });
    const error = expectFitError(schedule(new SchedulingAlgorithm(), fwk));
    expect(seen).toEqual(['n2', 'n4']);
    expect(error.nodeToStatus.size).toBe(5);
    expect(error.nodeToStatus.get('n0')?.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(error.message()).toBe("0/5 nodes are available: 2 Insufficient cpu, 3 node(s) didn't satisfy plugin(s) [Narrow].");
    expect([...error.diagnosis.unschedulablePlugins].sort()).toEqual(['Narrow', 'Reject']);
  });

  it('gives every node the PreFilter rejection, so preemption can see whether it may help', () => {
    const nodes = nodesNamed(3);
    const seen: string[] = [];
    const full: PreFilterPlugin = { name: 'Quota', preFilter: () => ({ status: Status.unschedulable('quota exceeded') }) };
    const fwk = frameworkWith([full, rejecting({}, seen)], { nodes });
    const error = expectFitError(schedule(new SchedulingAlgorithm(), fwk));
    expect(seen).toEqual([]);
    expect([...error.nodeToStatus.values()].map((status) => status.code)).toEqual([Code.Unschedulable, Code.Unschedulable, Code.Unschedulable]);
    expect(error.message()).toBe('0/3 nodes are available: quota exceeded.');
    expect([...error.diagnosis.unschedulablePlugins]).toEqual(['Quota']);
  });

  it('tries the nominated node alone first', () => {
    const nodes = nodesNamed(5);
    const seen: string[] = [];
    const fwk = frameworkWith([rejecting({}, seen), scoring({ n0: 100 })], { nodes });
    const nominated = nominatedTo('n3');
    expect(schedule(new SchedulingAlgorithm(), fwk, nominated)).toEqual({ suggestedHost: 'n3', evaluatedNodes: 1, feasibleNodes: 1 });
    expect(seen).toEqual(['n3']);
  });

  it('searches all nodes when the nominated node no longer fits', () => {
    const nodes = nodesNamed(3);
    const fwk = frameworkWith([rejecting({ n2: 'Insufficient cpu' }), scoring({ n0: 1, n1: 2 })], { nodes });
    const nominated = nominatedTo('n2');
    expect(expectScheduled(schedule(new SchedulingAlgorithm(), fwk, nominated)).suggestedHost).toBe('n1');
  });

  it('throws a SchedulingError when a Filter fails, still moving the start index', () => {
    const nodes = nodesNamed(4);
    const broken = rejecting({});
    const failing: FilterPlugin = { name: 'Broken', filter: (state, p, nodeInfo) => (nodeInfo.name === 'n2' ? Status.error('oops') : broken.filter(state, p, nodeInfo)) };
    const algorithm = new SchedulingAlgorithm();
    const fwk = frameworkWith([failing, scoring({})], { nodes });
    expect(() => schedule(algorithm, fwk)).toThrow(SchedulingError);
    expect(algorithm.nextStartNodeIndex).toBe(2);
  });

  it('throws NoNodesAvailableError on an empty snapshot', () => {
    expect(() => schedule(new SchedulingAlgorithm(), frameworkWith([rejecting({})], { nodes: [] }))).toThrow('no nodes available to schedule pods');
    expect(() => schedule(new SchedulingAlgorithm(), frameworkWith([rejecting({})], { nodes: [] }))).toThrow(NoNodesAvailableError);
  });

  it('records the PostFilter message on the FitError', async () => {
    const nodes = nodesNamed(2);
    const preemption: PostFilterPlugin = {
      name: 'Preempt',
      postFilter: async (_state, _pod, statuses) => ({ status: Status.unschedulable(`preemption: 0/${statuses.size} nodes are available: 2 No preemption victims found for incoming pod.`) }),
    };
    const fwk = frameworkWith([rejecting({ n0: 'Insufficient cpu', n1: 'Insufficient cpu' }), preemption], { nodes });
    const state = new CycleState();
    const error = expectFitError(new SchedulingAlgorithm().schedulePod(fwk, state, thePod));
    await runPostFilter(fwk, state, thePod, error);
    expect(error.message()).toBe('0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
  });

  it('filters only about as many of 5,000 nodes as it needs for each of 1,000 pods', () => {
    const nodes = nodesNamed(5000);
    let filterCalls = 0;
    const cheapFilters: FilterPlugin[] = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].map((name, i) => ({
      name,
      filter: (_state, _pod, nodeInfo) => {
        filterCalls++;
        return (nodeInfo.name.length + i) % 97 === 0 ? Status.unschedulable('odd') : Status.success();
      },
    }));
    const scorers: ScorePlugin[] = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'].map((name) => ({
      name,
      score: (_state, _pod, nodeInfo) => ({ score: nodeInfo.name.length * 10, status: Status.success() }),
    }));
    const fwk = frameworkWith([...cheapFilters, ...scorers], { nodes });
    const algorithm = new SchedulingAlgorithm({ random: seededRandom(3) });
    const pods = 1000;
    for (let i = 0; i < pods; i++) expectScheduled(schedule(algorithm, fwk));
    // 500 feasible nodes are enough at 5,000 (the adaptive percentage): a pod's Filter plugins run on
    // a little over 500 nodes, never on all 5,000 — the work that keeps large clusters fast.
    expect(filterCalls / pods).toBeGreaterThanOrEqual(500);
    expect(filterCalls / pods).toBeLessThan(8 * 520);
  });
});
