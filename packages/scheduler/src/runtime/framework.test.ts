import { describe, expect, it } from 'vitest';
import { CycleState } from '../framework/cycle_state.js';
import type {
  BindPlugin,
  EnqueueExtensions,
  FilterPlugin,
  NodeScore,
  PluginFactory,
  PermitPlugin,
  PostFilterPlugin,
  PreFilterPlugin,
  PreScorePlugin,
  ReservePlugin,
  ScorePlugin,
} from '../framework/interfaces.js';
import { podInfoFor, type NodeInfo } from '../framework/node_info.js';
import { Code, Status } from '../framework/status.js';
import { node, pod } from '../testing/builders.js';
import { ALL_CLUSTER_EVENTS, Framework, MAX_PERMIT_TIMEOUT_MS } from './framework.js';
import type { Registry } from './registry.js';
import { frameworkWith, depsOver } from './test_support.js';

const nodes = ['n1', 'n2', 'n3'].map((name) => node(name).info());
const thePod = pod('p').build();

function preFilter(name: string, outcome: { nodeNames?: string[]; status?: Status }, calls: string[] = []): PreFilterPlugin {
  return {
    name,
    preFilter: () => {
      calls.push(name);
      const status = outcome.status ?? Status.success();
      return outcome.nodeNames ? { result: { nodeNames: new Set(outcome.nodeNames) }, status } : { status };
    },
  };
}

function filter(name: string, decide: (nodeInfo: NodeInfo) => Status, calls: string[] = []): FilterPlugin {
  return {
    name,
    filter: (_state, _pod, nodeInfo) => {
      calls.push(`${name}:${nodeInfo.name}`);
      return decide(nodeInfo);
    },
  };
}

function scorer(name: string, scores: Record<string, number>, normalize?: (scores: NodeScore[]) => void): ScorePlugin {
  return {
    name,
    score: (_state, _pod, nodeInfo) => ({ score: scores[nodeInfo.name] ?? 0, status: Status.success() }),
    ...(normalize
      ? {
          scoreExtensions: () => ({
            normalizeScore: (_state, _pod, list) => {
              normalize(list);
              return Status.success();
            },
          }),
        }
      : {}),
  };
}

describe('Framework construction', () => {
  it('instantiates a plugin once and places it at every point it implements, in multiPoint order', () => {
    let built = 0;
    const both: FilterPlugin & ScorePlugin & PreFilterPlugin = {
      name: 'Both',
      preFilter: () => ({ status: Status.success() }),
      filter: () => Status.success(),
      score: () => ({ score: 0, status: Status.success() }),
    };
    const first = filter('First', () => Status.success());
    const registry: Registry = new Map<string, PluginFactory>([
      ['First', () => first],
      [
        'Both',
        () => {
          built++;
          return both;
        },
      ],
      ['Binder', () => ({ name: 'Binder', bind: async () => Status.success() })],
    ]);
    const fwk = new Framework(
      { schedulerName: 's', plugins: { multiPoint: { enabled: [{ name: 'First' }, { name: 'Both', weight: 4 }, { name: 'Binder' }] } } },
      registry,
      depsOver(nodes),
    );
    expect(built).toBe(1);
    expect(fwk.listPlugins()).toEqual({
      preFilter: ['Both'],
      filter: ['First', 'Both'],
      postFilter: [],
      preScore: [],
      score: ['Both'],
      reserve: [],
      permit: [],
      bind: ['Binder'],
    });
    expect(fwk.scoreWeight('Both')).toBe(4);
  });

  it('orders explicit overrides first, then multiPoint, then the rest of the point', () => {
    const plugins = ['A', 'B', 'C', 'D'].map((name) => filter(name, () => Status.success()));
    const registry = new Map([...plugins, { name: 'Binder', bind: async () => Status.success() }].map((plugin) => [plugin.name, () => plugin]));
    const fwk = new Framework(
      {
        schedulerName: 's',
        plugins: {
          multiPoint: { enabled: [{ name: 'A' }, { name: 'B' }, { name: 'C' }, { name: 'Binder' }] },
          filter: { enabled: [{ name: 'D' }, { name: 'C' }], disabled: [{ name: 'A' }] },
        },
      },
      registry,
      depsOver(nodes),
    );
    expect(fwk.listPlugins().filter).toEqual(['C', 'B', 'D']);
  });

  it.each([
    ['a profile without a bind plugin', { multiPoint: { enabled: [{ name: 'F' }] } }, /at least one bind plugin/],
    ['a plugin missing from the registry', { multiPoint: { enabled: [{ name: 'Nope' }] } }, /"Nope" does not exist/],
    ['a plugin at a point it does not implement', { score: { enabled: [{ name: 'F' }] } }, /does not extend score/],
    ['a plugin named twice at one point', { filter: { enabled: [{ name: 'F' }, { name: 'F' }] } }, /already registered/],
  ])('rejects %s', (_name, plugins, error) => {
    const registry = new Map([['F', () => filter('F', () => Status.success())]]);
    expect(() => new Framework({ schedulerName: 's', plugins }, registry, depsOver(nodes))).toThrow(error);
  });

  it('gives plugins their pluginConfig args and itself as the handle', () => {
    let seen: unknown;
    let handle: unknown;
    const registry: Registry = new Map<string, PluginFactory>([
      [
        'F',
        (args: Readonly<Record<string, unknown>>, h: unknown) => {
          seen = args;
          handle = h;
          return filter('F', () => Status.success());
        },
      ],
      ['B', () => ({ name: 'B', bind: async () => Status.success() })],
    ]);
    const fwk = new Framework(
      { schedulerName: 's', plugins: { multiPoint: { enabled: [{ name: 'F' }, { name: 'B' }] } }, pluginConfig: [{ name: 'F', args: { x: 1 } }] },
      registry,
      depsOver(nodes),
    );
    expect(seen).toEqual({ x: 1 });
    expect(handle).toBe(fwk);
  });
});

describe('runPreFilterPlugins', () => {
  it('intersects the nodes plugins allow and names the plugins that narrowed', () => {
    const fwk = frameworkWith([preFilter('A', { nodeNames: ['n1', 'n2'] }), preFilter('All', {}), preFilter('B', { nodeNames: ['n2', 'n3'] })], { nodes });
    const outcome = fwk.runPreFilterPlugins(new CycleState(), thePod);
    expect(outcome.status.isSuccess()).toBe(true);
    expect([...outcome.result!.nodeNames!]).toEqual(['n2']);
    expect([...outcome.narrowedBy]).toEqual(['A', 'B']);
  });

  it.each([
    ['one plugin', [preFilter('A', { nodeNames: [] })], "node(s) didn't satisfy plugin A"],
    [
      'several plugins',
      [preFilter('B', { nodeNames: ['n1'] }), preFilter('A', { nodeNames: ['n2'] })],
      "node(s) didn't satisfy plugin(s) [A B] simultaneously",
    ],
  ])('rejects the pod as unresolvable when no node is left (%s)', (_name, plugins, message) => {
    const outcome = frameworkWith(plugins, { nodes }).runPreFilterPlugins(new CycleState(), thePod);
    expect(outcome.status.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(outcome.status.message()).toBe(message);
  });

  it('stops at UnschedulableAndUnresolvable but runs on after Unschedulable', () => {
    const calls: string[] = [];
    const first = frameworkWith(
      [preFilter('A', { status: Status.unresolvable('no') }, calls), preFilter('B', {}, calls)],
      { nodes },
    ).runPreFilterPlugins(new CycleState(), thePod);
    expect(calls).toEqual(['A']);
    expect(first.status.plugin).toBe('A');

    calls.length = 0;
    const second = frameworkWith(
      [preFilter('A', { status: Status.unschedulable('full') }, calls), preFilter('B', {}, calls)],
      { nodes },
    ).runPreFilterPlugins(new CycleState(), thePod);
    expect(calls).toEqual(['A', 'B']);
    expect(second.status.code).toBe(Code.Unschedulable);
    expect(second.status.plugin).toBe('A');
  });

  it('turns any other status into an error naming the plugin', () => {
    const outcome = frameworkWith([preFilter('A', { status: Status.error('boom') })], { nodes }).runPreFilterPlugins(new CycleState(), thePod);
    expect(outcome.status.code).toBe(Code.Error);
    expect(outcome.status.message()).toBe('running PreFilter plugin "A": boom');
  });

  it("skips the Filter and PreFilterExtensions of a plugin whose PreFilter returned Skip", () => {
    const calls: string[] = [];
    const skipping: PreFilterPlugin & FilterPlugin = {
      name: 'Skipper',
      preFilter: () => ({ status: Status.skip() }),
      preFilterExtensions: () => ({
        addPod: () => {
          calls.push('Skipper:addPod');
          return Status.success();
        },
        removePod: () => Status.success(),
      }),
      filter: () => {
        calls.push('Skipper:filter');
        return Status.unresolvable('never');
      },
    };
    const other = filter('Other', () => Status.success(), calls);
    const fwk = frameworkWith([skipping, other], { nodes });
    const state = new CycleState();
    fwk.runPreFilterPlugins(state, thePod);
    expect(fwk.runFilterPlugins(state, thePod, nodes[0]!).isSuccess()).toBe(true);
    expect(fwk.runPreFilterExtensionAddPod(state, thePod, podInfoFor(pod('q').build()), nodes[0]!).isSuccess()).toBe(true);
    expect(calls).toEqual(['Other:n1']);
    // A state cloned for preemption keeps the skip.
    expect(fwk.runFilterPlugins(state.clone(), thePod, nodes[0]!).isSuccess()).toBe(true);
  });
});

describe('runFilterPlugins', () => {
  it('stops at the first rejection and says which plugin rejected', () => {
    const calls: string[] = [];
    const fwk = frameworkWith(
      [
        filter('Pass', () => Status.success(), calls),
        filter('Reject', () => Status.unschedulable('Insufficient cpu'), calls),
        filter('Never', () => Status.success(), calls),
      ],
      { nodes },
    );
    const status = fwk.runFilterPlugins(new CycleState(), thePod, nodes[0]!);
    expect(calls).toEqual(['Pass:n1', 'Reject:n1']);
    expect(status.code).toBe(Code.Unschedulable);
    expect(status.reasons).toEqual(['Insufficient cpu']);
    expect(status.plugin).toBe('Reject');
  });

  it('reports a status other than a rejection as an error', () => {
    const fwk = frameworkWith([filter('Broken', () => Status.error('nil node'))], { nodes });
    const status = fwk.runFilterPlugins(new CycleState(), thePod, nodes[0]!);
    expect(status.code).toBe(Code.Error);
    expect(status.message()).toBe('running "Broken" filter plugin: nil node');
  });

  it('with nominated pods, counts those of equal or higher priority and then checks without them', () => {
    const high = podInfoFor(pod('high').priority(10).build());
    const low = podInfoFor(pod('low').priority(0).build());
    const seen: number[] = [];
    const countPods = filter('Count', (nodeInfo) => {
      seen.push(nodeInfo.pods.length);
      return Status.success();
    });
    const fwk = frameworkWith([countPods], { nodes, deps: { nominatedPodsForNode: (name) => (name === 'n1' ? [high, low] : []) } });
    const status = fwk.runFilterPluginsWithNominatedPods(new CycleState(), pod('p').priority(5).build(), nodes[0]!);
    expect(status.isSuccess()).toBe(true);
    expect(seen).toEqual([1, 0]); // with `high` only, then without nominees
    expect(nodes[0]!.pods).toHaveLength(0); // the snapshot's NodeInfo is untouched
  });

  it('with nominated pods, rejects when the node is too full once they are counted', () => {
    const nominee = podInfoFor(pod('nominee').priority(10).build());
    const fitsAlone = filter('Fit', (nodeInfo) => (nodeInfo.pods.length > 0 ? Status.unschedulable('Too many pods') : Status.success()));
    const fwk = frameworkWith([fitsAlone], { nodes, deps: { nominatedPodsForNode: () => [nominee] } });
    const status = fwk.runFilterPluginsWithNominatedPods(new CycleState(), thePod, nodes[0]!);
    expect(status.reasons).toEqual(['Too many pods']);
  });
});

describe('runScorePlugins', () => {
  it('normalizes each plugin, multiplies by its weight and sums per node', () => {
    const raw = scorer('Raw', { n1: 10, n2: 20, n3: 0 });
    const scaled = scorer('Scaled', { n1: 1, n2: 2, n3: 4 }, (list) => {
      const max = Math.max(...list.map((entry) => entry.score));
      for (const entry of list) entry.score = Math.floor((entry.score * 100) / max);
    });
    const fwk = frameworkWith([raw, scaled], { nodes, weights: { Raw: 3, Scaled: 2 } });
    const state = new CycleState();
    expect(fwk.runPreScorePlugins(state, thePod, nodes).isSuccess()).toBe(true);
    const { totals, status } = fwk.runScorePlugins(state, thePod, nodes);
    expect(status.isSuccess()).toBe(true);
    // n1: 10*3 + 25*2, n2: 20*3 + 50*2, n3: 0*3 + 100*2
    expect([...totals]).toEqual([80, 160, 200]);
  });

  it('counts a missing or zero weight as 1', () => {
    const fwk = frameworkWith([scorer('A', { n1: 7 }), scorer('B', { n1: 5 })], { nodes, weights: { B: 0 } });
    expect(fwk.scoreWeight('A')).toBe(1);
    expect(fwk.scoreWeight('B')).toBe(1);
    expect(fwk.runScorePlugins(new CycleState(), thePod, nodes).totals[0]).toBe(12);
  });

  it('does not score with a plugin whose PreScore returned Skip', () => {
    const skipping: PreScorePlugin & ScorePlugin = {
      name: 'Skipper',
      preScore: () => Status.skip(),
      score: () => ({ score: 100, status: Status.success() }),
    };
    const fwk = frameworkWith([skipping, scorer('Other', { n1: 1, n2: 2, n3: 3 })], { nodes });
    const state = new CycleState();
    fwk.runPreScorePlugins(state, thePod, nodes);
    expect([...fwk.runScorePlugins(state, thePod, nodes).totals]).toEqual([1, 2, 3]);
  });

  it('rejects scores outside [0, 100] after normalizing', () => {
    const fwk = frameworkWith([scorer('Wild', { n1: 150 })], { nodes });
    const { status } = fwk.runScorePlugins(new CycleState(), thePod, nodes);
    expect(status.code).toBe(Code.Error);
    expect(status.message()).toBe(
      'applying score defaultWeights on Score plugins: plugin "Wild" returns an invalid score 150, it should in the range of [0, 100] after normalizing',
    );
  });

  it('gives each cycle fresh scores even though it reuses score objects', () => {
    const fwk = frameworkWith([scorer('A', { n1: 5, n2: 6, n3: 7 })], { nodes });
    fwk.runScorePlugins(new CycleState(), thePod, nodes);
    const second = fwk.runScorePlugins(new CycleState(), thePod, [nodes[2]!]);
    expect([...second.totals]).toEqual([7]);
  });
});

describe('runPostFilterPlugins', () => {
  const postFilter = (name: string, status: Status, nominatedNodeName?: string): PostFilterPlugin => ({
    name,
    postFilter: async () => (nominatedNodeName === undefined ? { status } : { result: { nominatedNodeName }, status }),
  });

  it('stops at the first success', async () => {
    const fwk = frameworkWith([postFilter('A', Status.unschedulable('a')), postFilter('B', Status.success(), 'n2'), postFilter('C', Status.error('never'))], { nodes });
    const outcome = await fwk.runPostFilterPlugins(new CycleState(), thePod, new Map());
    expect(outcome.status.isSuccess()).toBe(true);
    expect(outcome.result).toEqual({ nominatedNodeName: 'n2' });
  });

  it('gathers every reason when all fail, blaming the first', async () => {
    const fwk = frameworkWith([postFilter('A', Status.unschedulable('a1', 'a2')), postFilter('B', Status.unschedulable('b'))], { nodes });
    const outcome = await fwk.runPostFilterPlugins(new CycleState(), thePod, new Map());
    expect(outcome.status.code).toBe(Code.Unschedulable);
    expect(outcome.status.reasons).toEqual(['a1', 'a2', 'b']);
    expect(outcome.status.plugin).toBe('A');
  });
});

describe('Reserve, Permit and Bind', () => {
  const reserver = (name: string, calls: string[], status = Status.success()): ReservePlugin => ({
    name,
    reserve: () => {
      calls.push(`reserve ${name}`);
      return status;
    },
    unreserve: () => {
      calls.push(`unreserve ${name}`);
    },
  });

  it('reserves in order, stops at a rejection, and unreserves in reverse order', () => {
    const calls: string[] = [];
    const fwk = frameworkWith([reserver('A', calls), reserver('B', calls, Status.unschedulable('taken')), reserver('C', calls)], { nodes });
    const state = new CycleState();
    const status = fwk.runReservePluginsReserve(state, thePod, 'n1');
    expect(status.plugin).toBe('B');
    fwk.runReservePluginsUnreserve(state, thePod, 'n1');
    expect(calls).toEqual(['reserve A', 'reserve B', 'unreserve C', 'unreserve B', 'unreserve A']);
  });

  it('waits when a Permit plugin waits and none rejects, with its timeout capped', () => {
    const permit = (name: string, status: Status, timeoutMs = 0): PermitPlugin => ({ name, permit: () => ({ status, timeoutMs }) });
    const fwk = frameworkWith([permit('Ok', Status.success()), permit('Gang', Status.wait(), 60 * 60 * 1000)], { nodes });
    const outcome = fwk.runPermitPlugins(new CycleState(), thePod, 'n1');
    expect(outcome.status.code).toBe(Code.Wait);
    expect(outcome.status.message()).toBe('one or more plugins asked to wait and no plugin rejected pod "p"');
    expect(outcome.waitTimeoutsMs).toEqual(new Map([['Gang', MAX_PERMIT_TIMEOUT_MS]]));

    const rejecting = frameworkWith([permit('Gang', Status.wait(), 10), permit('No', Status.unschedulable('denied'))], { nodes });
    const rejected = rejecting.runPermitPlugins(new CycleState(), thePod, 'n1');
    expect(rejected.status.code).toBe(Code.Unschedulable);
    expect(rejected.status.plugin).toBe('No');
  });

  it('binds with the first plugin that does not Skip', async () => {
    const calls: string[] = [];
    const binder = (name: string, status: Status): BindPlugin => ({
      name,
      bind: async () => {
        calls.push(name);
        return status;
      },
    });
    const fwk = frameworkWith([binder('Skips', Status.skip()), binder('Binds', Status.success()), binder('Never', Status.success())], { nodes });
    expect((await fwk.runBindPlugins(new CycleState(), thePod, 'n1')).isSuccess()).toBe(true);
    expect(calls).toEqual(['Skips', 'Binds']);
  });

  it('turns a Bind plugin that throws into an error status', async () => {
    const throwing: BindPlugin = {
      name: 'Throws',
      bind: async () => {
        throw new Error('connection refused');
      },
    };
    const status = await frameworkWith([throwing], { nodes }).runBindPlugins(new CycleState(), thePod, 'n1');
    expect(status.code).toBe(Code.Error);
    expect(status.message()).toBe('running Bind plugin "Throws": connection refused');
  });
});

describe('eventsToRegister', () => {
  it("lists each rejecting plugin's events, and every event for those that list none", () => {
    const listing: FilterPlugin & EnqueueExtensions = {
      name: 'Listing',
      filter: () => Status.success(),
      eventsToRegister: () => [{ resource: 'Node', action: 'Add' }],
    };
    const silent = filter('Silent', () => Status.success());
    const scoreOnly = scorer('ScoreOnly', {});
    const events = frameworkWith([listing, silent, scoreOnly], { nodes }).eventsToRegister();
    expect(events).toEqual(
      new Map([
        ['Listing', [{ resource: 'Node', action: 'Add' }]],
        ['Silent', [...ALL_CLUSTER_EVENTS]],
      ]),
    );
  });
});
