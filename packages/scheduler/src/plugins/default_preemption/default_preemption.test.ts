import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { CycleState, type StateData } from '../../framework/cycle_state.js';
import type { Handle, NodeInfoLister, NodeToStatus } from '../../framework/interfaces.js';
import { podInfoFor, type NodeInfo, type PodInfo } from '../../framework/node_info.js';
import { Code, Status } from '../../framework/status.js';
import { node, pod, type PodBuilder } from '../../testing/builders.js';
import {
  DefaultPreemption,
  newDefaultPreemption,
  numCandidates,
  parseDefaultPreemptionArgs,
  pickCandidate,
  type Candidate,
  type DefaultPreemptionOptions,
} from './index.js';

// ---- a fake Handle: real NodeInfos, and one Filter plugin that checks cpu -----------------------

/** Pods the fake PreFilter extensions saw removed/added, kept in the CycleState like a real plugin. */
class Touched implements StateData {
  constructor(readonly names: string[] = []) {}
  clone(): Touched {
    return new Touched([...this.names]);
  }
}
const TOUCHED = 'PreFilterFake';

interface FakeHandle extends Handle {
  evicted: { victim: string; preemptor: string }[];
  filteredNodes: string[];
}

function fakeHandle(nodes: NodeInfo[], options: { nominated?: Record<string, Pod[]>; failRemove?: boolean } = {}): FakeHandle {
  const lister: NodeInfoLister = {
    list: () => nodes,
    get: (name) => nodes.find((n) => n.name === name),
    havePodsWithAffinityList: () => [],
    havePodsWithRequiredAntiAffinityList: () => [],
  };
  const touch = (state: CycleState, sign: string, info: PodInfo): Status => {
    if (options.failRemove && sign === '-') return Status.error('remove failed');
    state.read<Touched>(TOUCHED)?.names.push(`${sign}${info.pod.metadata!.name!}`);
    return Status.success();
  };
  const handle: FakeHandle = {
    evicted: [],
    filteredNodes: [],
    snapshot: () => lister,
    namespaceLabels: () => undefined,
    runFilterPlugins(_state, preemptor, nodeInfo) {
      handle.filteredNodes.push(nodeInfo.name);
      return cpuFits(preemptor, nodeInfo);
    },
    runPreFilterExtensionAddPod: (state, _pod, info) => touch(state, '+', info),
    runPreFilterExtensionRemovePod: (state, _pod, info) => touch(state, '-', info),
    async evictPod(victim, preemptor) {
      handle.evicted.push({ victim: victim.metadata!.name!, preemptor: preemptor.metadata!.name! });
    },
    nominatedPodsForNode: (name) => (options.nominated?.[name] ?? []).map(podInfoFor),
  };
  return handle;
}

function cpuFits(candidate: Pod, nodeInfo: NodeInfo): Status {
  const wanted = podInfoFor(candidate).requests.milliCpu;
  return nodeInfo.requested.milliCpu + wanted <= nodeInfo.allocatable.milliCpu ? Status.success() : Status.unschedulable('Insufficient cpu');
}

/** What Filter said about each node: Unschedulable unless named in `unresolvable`. */
function statuses(nodes: NodeInfo[], unresolvable: string[] = []): NodeToStatus {
  return new Map(
    nodes.map((n) => [n.name, unresolvable.includes(n.name) ? Status.unresolvable("node(s) didn't match Pod's node affinity/selector") : Status.unschedulable('Insufficient cpu')]),
  );
}

/** A pod running since `startTime`. */
function running(builder: PodBuilder, startTime = '2026-01-01T10:00:00Z'): Pod {
  const built = builder.build();
  return { ...built, status: { ...built.status, phase: 'Running', startTime } };
}

/** The pod, being deleted (graceful termination has begun). */
function deleting(target: Pod): Pod {
  return { ...target, metadata: { ...target.metadata, deletionTimestamp: '2026-01-01T11:00:00Z' } };
}

const preemptor = (cpu: string, priority = 10): Pod => pod('preemptor').request({ cpu }).priority(priority).build();

async function preempt(nodes: NodeInfo[], incoming: Pod, options: DefaultPreemptionOptions & { handle?: FakeHandle; status?: NodeToStatus } = {}) {
  const handle = options.handle ?? fakeHandle(nodes);
  const plugin = new DefaultPreemption(handle, undefined, { randomInt: () => 0, ...options });
  const state = new CycleState();
  state.write(TOUCHED, new Touched());
  const outcome = await plugin.postFilter(state, incoming, options.status ?? statuses(nodes));
  return { ...outcome, handle, state, evicted: handle.evicted.map((e) => e.victim) };
}

// ---- victims on one node ---------------------------------------------------------------------

describe('DefaultPreemption: victims on a node', () => {
  it('preempts the lower-priority pod whose removal frees enough, and nominates the node', async () => {
    const n1 = node('n1').cpu('4').info(running(pod('big-low').request({ cpu: '2' }).priority(1)), running(pod('mid').request({ cpu: '2' }).priority(5)));
    const { result, status, evicted, handle } = await preempt([n1], preemptor('2'));
    expect(status.code).toBe(Code.Success);
    expect(result).toEqual({ nominatedNodeName: 'n1' });
    expect(evicted).toEqual(['big-low']);
    expect(handle.evicted).toEqual([{ victim: 'big-low', preemptor: 'preemptor' }]);
  });

  it('reprieves the most important pods first, so victims are as few and as unimportant as possible', async () => {
    // 4 pods of 1 cpu fill the node; the preemptor needs 1: only one must go, the youngest of the lowest.
    const n1 = node('n1').cpu('4').info(
      running(pod('old-p1').request({ cpu: '1' }).priority(1), '2026-01-01T08:00:00Z'),
      running(pod('young-p1').request({ cpu: '1' }).priority(1), '2026-01-01T09:00:00Z'),
      running(pod('p2').request({ cpu: '1' }).priority(2)),
      running(pod('p3').request({ cpu: '1' }).priority(3)),
    );
    const { evicted } = await preempt([n1], preemptor('1'));
    expect(evicted).toEqual(['young-p1']);
  });

  it('evicts several pods when one is not enough, most important first', async () => {
    const n1 = node('n1').cpu('4').info(
      running(pod('a').request({ cpu: '1' }).priority(1)),
      running(pod('b').request({ cpu: '1' }).priority(2)),
      running(pod('c').request({ cpu: '2' }).priority(3)),
    );
    const { evicted } = await preempt([n1], preemptor('2'));
    expect(evicted).toEqual(['b', 'a']);
  });

  const neverVictims: { name: string; pods: Pod[]; message: string }[] = [
    {
      name: 'only pods of equal priority',
      pods: [running(pod('same').request({ cpu: '4' }).priority(10))],
      message: 'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    },
    {
      name: 'only pods of higher priority',
      pods: [running(pod('higher').request({ cpu: '4' }).priority(11))],
      message: 'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    },
    {
      name: 'removing every lower-priority pod is not enough (a higher one stays)',
      pods: [running(pod('higher').request({ cpu: '3' }).priority(20)), running(pod('low').request({ cpu: '1' }).priority(1))],
      message: 'preemption: 0/1 nodes are available: 1 Insufficient cpu.',
    },
  ];
  it.each(neverVictims)('never preempts pods of equal or higher priority: $name', async ({ pods, message }) => {
    const n1 = node('n1').cpu('4').info(...pods);
    const { result, status, evicted } = await preempt([n1], preemptor('2'));
    expect(status.code).toBe(Code.Unschedulable);
    expect(status.message()).toBe(message);
    expect(result).toEqual({ nominatedNodeName: '' });
    expect(evicted).toEqual([]);
  });

  it('does not touch the snapshot or the cycle state (works on copies)', async () => {
    const n1 = node('n1').cpu('4').info(running(pod('low').request({ cpu: '4' }).priority(1)));
    const { state, evicted } = await preempt([n1], preemptor('2'));
    expect(evicted).toEqual(['low']);
    expect(n1.pods.map((p) => p.pod.metadata!.name)).toEqual(['low']);
    expect(n1.requested.milliCpu).toBe(4000);
    expect(state.read<Touched>(TOUCHED)!.names).toEqual([]);
  });

  it('tells the PreFilter extensions about every pod it removes and puts back', async () => {
    const n1 = node('n1').cpu('4').info(running(pod('low').request({ cpu: '2' }).priority(1)), running(pod('mid').request({ cpu: '2' }).priority(5)));
    const seen: string[][] = [];
    const handle = fakeHandle([n1]);
    const filter = handle.runFilterPlugins;
    handle.runFilterPlugins = (state, incoming, nodeInfo) => {
      seen.push([...state.read<Touched>(TOUCHED)!.names]);
      return filter(state, incoming, nodeInfo);
    };
    await preempt([n1], preemptor('2'), { handle });
    // all removed; then mid back (fits); then low back (does not fit), and removed again.
    expect(seen).toEqual([
      ['-low', '-mid'],
      ['-low', '-mid', '+mid'],
      ['-low', '-mid', '+mid', '+low'],
    ]);
  });

  it('keeps room promised to nominated pods of equal or higher priority, not to lower ones', async () => {
    const n1 = () => node('n1').cpu('4').info(running(pod('low').request({ cpu: '4' }).priority(1)));
    const nominee = (priority: number) => pod('nominee').request({ cpu: '3' }).priority(priority).build();

    const higher = await preempt([n1()], preemptor('2'), { handle: fakeHandle([n1()], { nominated: { n1: [nominee(20)] } }) });
    expect(higher.status.message()).toBe('preemption: 0/1 nodes are available: 1 Insufficient cpu.');
    expect(higher.evicted).toEqual([]);

    const lower = await preempt([n1()], preemptor('2'), { handle: fakeHandle([n1()], { nominated: { n1: [nominee(5)] } }) });
    expect(lower.status.message()).toBe('');
    expect(lower.result).toEqual({ nominatedNodeName: 'n1' });
    expect(lower.evicted).toEqual(['low']);
  });

  it('returns Error for a node where the pod would fit without preempting anyone (Filter disagreed)', async () => {
    const n1 = node('n1').cpu('4').info(running(pod('low').request({ cpu: '2' }).priority(1)));
    const { status, result, evicted } = await preempt([n1], preemptor('2'));
    expect(status.code).toBe(Code.Error);
    expect(status.message()).toBe('preemption: expected at least one victim pod on node "n1"');
    expect(result).toBeUndefined();
    expect(evicted).toEqual([]);
  });

  it('returns Error when a PreFilter extension fails', async () => {
    const n1 = node('n1').cpu('4').info(running(pod('low').request({ cpu: '4' }).priority(1)));
    const { status, result, evicted } = await preempt([n1], preemptor('2'), { handle: fakeHandle([n1], { failRemove: true }) });
    expect(status.code).toBe(Code.Error);
    expect(status.message()).toBe('preemption: remove failed');
    expect(result).toBeUndefined();
    expect(evicted).toEqual([]);
  });
});

// ---- which nodes, and which one ----------------------------------------------------------------

describe('DefaultPreemption: nodes', () => {
  it('skips nodes Filter found UnschedulableAndUnresolvable, even when preempting there would be cheaper', async () => {
    const cheap = node('cheap').cpu('4').info(running(pod('p1').request({ cpu: '4' }).priority(1)));
    const costly = node('costly').cpu('4').info(running(pod('p5').request({ cpu: '4' }).priority(5)));
    const nodes = [cheap, costly];
    const { result, evicted, handle } = await preempt(nodes, preemptor('2'), { status: statuses(nodes, ['cheap']) });
    expect(result).toEqual({ nominatedNodeName: 'costly' });
    expect(evicted).toEqual(['p5']);
    expect(handle.filteredNodes).not.toContain('cheap');
  });

  const noCandidate: { name: string; nodes: () => NodeInfo[]; unresolvable?: string[]; missing?: string[]; message: string }[] = [
    {
      name: 'every node unresolvable',
      nodes: () => [node('n1').info(), node('n2').info()],
      unresolvable: ['n1', 'n2'],
      message: 'preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    },
    {
      name: 'nodes PreFilter ruled out (absent from the map) count as not helpful',
      nodes: () => [node('n1').cpu('1').info(running(pod('same').request({ cpu: '1' }).priority(10))), node('n2').info()],
      missing: ['n2'],
      message: 'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
    },
    {
      name: 'a mix, counted per reason and sorted',
      nodes: () => [
        node('n1').cpu('1').info(running(pod('same').request({ cpu: '1' }).priority(10))),
        node('n2').cpu('1').info(running(pod('small-low').request({ cpu: '100m' }).priority(1)), running(pod('high').request({ cpu: '900m' }).priority(99))),
        node('n3').cpu('1').info(running(pod('same3').request({ cpu: '1' }).priority(10))),
        node('n4').info(),
      ],
      unresolvable: ['n4'],
      message: 'preemption: 0/4 nodes are available: 1 Insufficient cpu, 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    },
  ];
  it.each(noCandidate)('no candidate: Unschedulable with the counted reasons ($name)', async ({ nodes, unresolvable, missing, message }) => {
    const infos = nodes();
    const status = statuses(infos, unresolvable);
    for (const name of missing ?? []) status.delete(name);
    const outcome = await preempt(infos, preemptor('1'), { status });
    expect(outcome.status.code).toBe(Code.Unschedulable);
    expect(outcome.status.message()).toBe(message);
    expect(outcome.result).toEqual({ nominatedNodeName: '' });
    expect(outcome.evicted).toEqual([]);
  });

  it('picks the node by upstream order when several could take the pod', async () => {
    const nodes = [
      node('p5').cpu('2').info(running(pod('v5').request({ cpu: '2' }).priority(5))),
      node('p3-two').cpu('2').info(running(pod('a3').request({ cpu: '1' }).priority(3)), running(pod('b3').request({ cpu: '1' }).priority(3))),
      node('p3-one').cpu('2').info(running(pod('c3').request({ cpu: '1' }).priority(3)), running(pod('d1').request({ cpu: '1' }).priority(1))),
    ];
    // p5: highest victim 5 (worst). p3-two: {3, 3}. p3-one: {3, 1}: same highest, smaller sum.
    const { result, evicted } = await preempt(nodes, preemptor('2'));
    expect(result).toEqual({ nominatedNodeName: 'p3-one' });
    expect(evicted.sort()).toEqual(['c3', 'd1']);
  });

  it('tries only as many nodes as the args ask, from the random offset', async () => {
    const nodes = ['n1', 'n2', 'n3'].map((name) => node(name).cpu('1').info(running(pod(`low-${name}`).request({ cpu: '1' }).priority(1))));
    const handle = fakeHandle(nodes);
    const plugin = newDefaultPreemption({ minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 1 }, handle, { randomInt: (n) => n - 1 });
    const { result } = await plugin.postFilter(new CycleState(), preemptor('1'), statuses(nodes));
    expect(result).toEqual({ nominatedNodeName: 'n3' });
    expect(new Set(handle.filteredNodes)).toEqual(new Set(['n3']));
    expect(handle.evicted.map((e) => e.victim)).toEqual(['low-n3']);
  });

  it('wraps around from the offset past nodes that cannot help', async () => {
    const nodes = [
      node('n1').cpu('1').info(running(pod('low').request({ cpu: '1' }).priority(1))),
      node('n2').cpu('1').info(running(pod('same').request({ cpu: '1' }).priority(10))),
    ];
    const handle = fakeHandle(nodes);
    const plugin = newDefaultPreemption({ minCandidateNodesAbsolute: 1 }, handle, { randomInt: () => 1 });
    const { result } = await plugin.postFilter(new CycleState(), preemptor('1'), statuses(nodes));
    expect(result).toEqual({ nominatedNodeName: 'n1' });
  });

  const numCandidatesCases: { percentage: number; absolute: number; nodes: number; want: number }[] = [
    { percentage: 10, absolute: 100, nodes: 5, want: 5 },
    { percentage: 10, absolute: 100, nodes: 5000, want: 500 },
    { percentage: 10, absolute: 100, nodes: 1500, want: 150 },
    { percentage: 10, absolute: 100, nodes: 999, want: 100 },
    { percentage: 0, absolute: 1, nodes: 50, want: 1 },
    { percentage: 100, absolute: 0, nodes: 50, want: 50 },
    { percentage: 33, absolute: 0, nodes: 10, want: 3 },
  ];
  it.each(numCandidatesCases)('numCandidates($percentage%, $absolute, $nodes nodes) = $want', ({ percentage, absolute, nodes, want }) => {
    expect(numCandidates({ minCandidateNodesPercentage: percentage, minCandidateNodesAbsolute: absolute }, nodes)).toBe(want);
  });
});

describe('pickCandidate: the order of tie-breakers', () => {
  const victim = (name: string, priority: number, startTime?: string): Pod => {
    const built = pod(name).priority(priority).build();
    return startTime === undefined ? built : { ...built, status: { startTime } };
  };
  const candidate = (nodeName: string, pods: Pod[], numPdbViolations = 0): Candidate => ({ nodeName, victims: { pods, numPdbViolations } });

  const cases: { name: string; candidates: Candidate[]; want: string }[] = [
    {
      name: 'fewest PDB violations first, even with more important victims',
      candidates: [candidate('violates', [victim('a', 1)], 1), candidate('clean', [victim('b', 100)])],
      want: 'clean',
    },
    {
      name: 'then the lowest priority of the most important victim',
      candidates: [candidate('high', [victim('a', 5)]), candidate('low', [victim('b', 3), victim('c', 2), victim('d', 1)])],
      want: 'low',
    },
    {
      name: 'then the smallest sum of victim priorities',
      candidates: [candidate('more', [victim('a', 3), victim('b', 3)]), candidate('less', [victim('c', 3), victim('d', 1)])],
      want: 'less',
    },
    {
      name: 'fewer victims never lose on the sum (priorities are shifted to >= 0)',
      candidates: [candidate('two', [victim('a', -5), victim('b', -5)]), candidate('one', [victim('c', -5)])],
      want: 'one',
    },
    {
      name: 'then the fewest victims (equal sums)',
      candidates: [candidate('two', [victim('a', 0), victim('b', -(2 ** 31))]), candidate('one', [victim('c', 0)])],
      want: 'one',
    },
    {
      name: 'then the latest start among the highest-priority victims',
      candidates: [
        candidate('older', [victim('a', 3, '2026-01-01T09:00:00Z'), victim('b', 1, '2026-01-01T12:00:00Z')]),
        candidate('younger', [victim('c', 3, '2026-01-01T10:00:00Z'), victim('d', 1, '2026-01-01T08:00:00Z')]),
      ],
      want: 'younger',
    },
    {
      name: 'a victim that has not started counts as the youngest',
      candidates: [candidate('started', [victim('a', 3, '2026-01-01T09:00:00Z')]), candidate('pending', [victim('b', 3)])],
      want: 'pending',
    },
    {
      name: 'then the first',
      candidates: [candidate('first', [victim('a', 3, '2026-01-01T09:00:00Z')]), candidate('second', [victim('b', 3, '2026-01-01T09:00:00Z')])],
      want: 'first',
    },
  ];
  it.each(cases)('$name', ({ candidates, want }) => {
    expect(pickCandidate(candidates)?.nodeName).toBe(want);
  });

  it('has nothing to pick from no candidates', () => {
    expect(pickCandidate([])).toBeUndefined();
  });
});

// ---- eligibility --------------------------------------------------------------------------------

describe('DefaultPreemption: eligibility', () => {
  const fullNode = () => node('n1').cpu('2').info(running(pod('low').request({ cpu: '2' }).priority(1)));

  it('a pod with preemptionPolicy Never does not preempt', async () => {
    const incoming = pod('preemptor').request({ cpu: '1' }).priority(10).spec({ preemptionPolicy: 'Never' }).build();
    const { result, status, evicted } = await preempt([fullNode()], incoming);
    expect(status.code).toBe(Code.Unschedulable);
    expect(status.message()).toBe('preemption: not eligible due to preemptionPolicy=Never.');
    expect(result).toBeUndefined();
    expect(evicted).toEqual([]);
  });

  /** A lower-priority victim of an earlier preemption, still terminating on n1. */
  const terminatingVictim = (priority = 1, byPreemption = true): Pod => {
    const built = deleting(running(pod('terminating').request({ cpu: '1' }).priority(priority)));
    if (!byPreemption) return built;
    return { ...built, status: { ...built.status, conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }] } };
  };
  const nominatedPreemptor = (): Pod => ({ ...preemptor('2'), status: { nominatedNodeName: 'n1' } });

  it('a pod nominated to a node where its victims are still terminating waits', async () => {
    const n1 = node('n1').cpu('2').info(terminatingVictim(), running(pod('other').request({ cpu: '1' }).priority(1)));
    const { result, status, evicted } = await preempt([n1], nominatedPreemptor());
    expect(status.code).toBe(Code.Unschedulable);
    expect(status.message()).toBe('preemption: not eligible due to a terminating pod on the nominated node.');
    expect(result).toBeUndefined();
    expect(evicted).toEqual([]);
  });

  const stillEligible: { name: string; pods: () => Pod[]; status?: (nodes: NodeInfo[]) => NodeToStatus }[] = [
    { name: 'the terminating pod has higher priority', pods: () => [terminatingVictim(50), running(pod('other').request({ cpu: '1' }).priority(1))] },
    { name: 'the terminating pod was not deleted by preemption', pods: () => [terminatingVictim(1, false), running(pod('other').request({ cpu: '1' }).priority(1))] },
    {
      name: 'the nominated node became unresolvable',
      pods: () => [terminatingVictim(), running(pod('other').request({ cpu: '1' }).priority(1))],
      status: (nodes) => new Map([[nodes[0]!.name, Status.unresolvable('gone')], [nodes[1]!.name, Status.unschedulable('Insufficient cpu')]]),
    },
  ];
  it.each(stillEligible)('a nominated pod may preempt again when $name', async ({ pods, status }) => {
    const n1 = node('n1').cpu('2').info(...pods());
    const n2 = node('n2').cpu('2').info(running(pod('n2-low').request({ cpu: '2' }).priority(1)));
    const nodes = [n1, n2];
    const outcome = await preempt(nodes, nominatedPreemptor(), status ? { status: status(nodes) } : {});
    expect(outcome.status.code).toBe(Code.Success);
    expect(outcome.evicted.length).toBeGreaterThan(0);
  });
});

// ---- after choosing -------------------------------------------------------------------------------

describe('DefaultPreemption: evicting and nominations', () => {
  it('evicts every victim with the preemptor, skipping victims already being deleted', async () => {
    const alreadyDeleting = deleting(running(pod('deleting').request({ cpu: '1' }).priority(1)));
    const n1 = node('n1').cpu('3').info(alreadyDeleting, running(pod('a').request({ cpu: '1' }).priority(2)), running(pod('b').request({ cpu: '1' }).priority(3)));
    const { result, handle } = await preempt([n1], preemptor('3'));
    expect(result).toEqual({ nominatedNodeName: 'n1' });
    expect(handle.evicted).toEqual([
      { victim: 'b', preemptor: 'preemptor' },
      { victim: 'a', preemptor: 'preemptor' },
    ]);
  });

  it('returns Error when an eviction fails, without nominating', async () => {
    const n1 = node('n1').cpu('2').info(running(pod('low').request({ cpu: '2' }).priority(1)));
    const handle = fakeHandle([n1]);
    handle.evictPod = async () => {
      throw new Error('pods "low" is forbidden');
    };
    const { result, status } = await preempt([n1], preemptor('1'), { handle });
    expect(status.code).toBe(Code.Error);
    expect(status.message()).toBe('preemption: pods "low" is forbidden');
    expect(result).toBeUndefined();
  });

  it('hands over the lower-priority pods nominated to the chosen node, so their nomination is cleared', async () => {
    const n1 = node('n1').cpu('2').info(running(pod('low').request({ cpu: '2' }).priority(1)));
    const nominated = { n1: [pod('nominee-low').priority(5).build(), pod('nominee-high').priority(50).build()], n2: [pod('elsewhere').priority(1).build()] };
    const cleared: string[] = [];
    const { result } = await preempt([n1], preemptor('1'), {
      handle: fakeHandle([n1], { nominated }),
      clearNominatedNodeName: (pods) => {
        cleared.push(...pods.map((p) => p.metadata!.name!));
      },
    });
    expect(result).toEqual({ nominatedNodeName: 'n1' });
    expect(cleared).toEqual(['nominee-low']);
  });
});

describe('DefaultPreemptionArgs', () => {
  it('defaults to 10% and 100 nodes', () => {
    expect(parseDefaultPreemptionArgs({})).toEqual({ minCandidateNodesPercentage: 10, minCandidateNodesAbsolute: 100 });
  });

  const invalid: { args: Record<string, unknown>; message: string }[] = [
    { args: { minCandidateNodesPercentage: 101 }, message: 'minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100]' },
    { args: { minCandidateNodesAbsolute: -1 }, message: 'minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)' },
    { args: { minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 0 }, message: 'cannot be zero at the same time as minCandidateNodesAbsolute' },
    { args: { minCandidateNodesPercentage: '10' }, message: 'minCandidateNodesPercentage: Invalid value: "10": must be an integer' },
  ];
  it.each(invalid)('rejects $args', ({ args, message }) => {
    expect(() => parseDefaultPreemptionArgs(args)).toThrow(message);
  });
});
