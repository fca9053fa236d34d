import { describe, expect, it } from 'vitest';
import type { Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle_state.js';
import type { Handle, NodeInfoLister, NodeScore } from '../../framework/interfaces.js';
import { podInfoFor, type NodeInfo } from '../../framework/node_info.js';
import { Code, Status } from '../../framework/status.js';
import { HOSTNAME_LABEL, node, pod, ZONE_LABEL, type PodBuilder } from '../../testing/builders.js';
import { ERR_REASON_CONSTRAINTS_NOT_MATCH, ERR_REASON_NODE_LABEL_NOT_MATCH, factory, NAME, PodTopologySpread } from './index.js';

function handleFor(nodes: readonly NodeInfo[]): Handle {
  const lister: NodeInfoLister = {
    list: () => nodes,
    get: (name) => nodes.find((info) => info.name === name),
    havePodsWithAffinityList: () => nodes.filter((info) => info.podsWithAffinity.length > 0),
    havePodsWithRequiredAntiAffinityList: () => nodes.filter((info) => info.podsWithRequiredAntiAffinity.length > 0),
  };
  return {
    snapshot: () => lister,
    namespaceLabels: () => undefined,
    runFilterPlugins: () => Status.success(),
    runPreFilterExtensionAddPod: () => Status.success(),
    runPreFilterExtensionRemovePod: () => Status.success(),
    evictPod: async () => {},
    nominatedPodsForNode: () => [],
  };
}

type Extra = Partial<Omit<TopologySpreadConstraint, 'maxSkew' | 'topologyKey' | 'whenUnsatisfiable'>>;

function spread(maxSkew: number, topologyKey: string, whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway', extra: Extra = {}): TopologySpreadConstraint {
  return { maxSkew, topologyKey, whenUnsatisfiable, labelSelector: { matchLabels: { app: 'web' } }, ...extra };
}

const web = (name: string, namespace?: string): PodBuilder => pod(name, namespace).label('app', 'web');

/** `count` web pods bound to `nodeName`. */
function webPods(nodeName: string, count: number): Pod[] {
  return Array.from({ length: count }, (_, i) => web(`web-${nodeName}-${i}`).node(nodeName).build());
}

function terminating(p: Pod): Pod {
  return { ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
}

function describeStatus(status: Status): string {
  return status.isSuccess() ? 'ok' : `${status.code}: ${status.message()}`;
}

const SKEW = `${Code.Unschedulable}: ${ERR_REASON_CONSTRAINTS_NOT_MATCH}`;
const MISSING_LABEL = `${Code.UnschedulableAndUnresolvable}: ${ERR_REASON_NODE_LABEL_NOT_MATCH}`;

function filterAll(incoming: Pod, nodes: NodeInfo[], args: Record<string, unknown> = {}) {
  const plugin = factory(args, handleFor(nodes)) as PodTopologySpread;
  const state = new CycleState();
  const pre = plugin.preFilter(state, incoming, nodes);
  const results: Record<string, string> = {};
  if (pre.status.isSuccess()) for (const info of nodes) results[info.name] = describeStatus(plugin.filter(state, incoming, info));
  return { preFilter: pre.status, results, plugin, state };
}

describe('PodTopologySpread Filter', () => {
  const cases: { name: string; incoming: Pod; nodes: NodeInfo[]; want: Record<string, string> }[] = [
    {
      name: 'maxSkew 1 on zones: only the emptier zone takes the pod',
      incoming: web('new').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule')] }).build(),
      nodes: [node('a1').zone('a').info(...webPods('a1', 2)), node('a2').zone('a').info(), node('b1').zone('b').info(...webPods('b1', 1))],
      want: { a1: SKEW, a2: SKEW, b1: 'ok' },
    },
    {
      name: 'a node without the topology label is unresolvable',
      incoming: web('new').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule')] }).build(),
      nodes: [node('a1').zone('a').info(), node('bare').info()],
      want: { a1: 'ok', bare: MISSING_LABEL },
    },
    {
      name: 'maxSkew 1 on hosts: every host with a replica more than the emptiest is out',
      incoming: web('new').spec({ topologySpreadConstraints: [spread(1, HOSTNAME_LABEL, 'DoNotSchedule')] }).build(),
      nodes: [node('n1').info(...webPods('n1', 1)), node('n2').info(...webPods('n2', 1)), node('n3').info()],
      want: { n1: SKEW, n2: SKEW, n3: 'ok' },
    },
    {
      name: 'a pod outside the group adds nothing to the skew',
      incoming: pod('other').label('app', 'other').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule')] }).build(),
      nodes: [node('a1').zone('a').info(...webPods('a1', 1)), node('b1').zone('b').info()],
      want: { a1: 'ok', b1: 'ok' },
    },
    {
      name: 'minDomains above the number of zones makes the global minimum 0',
      incoming: web('new').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule', { minDomains: 3 })] }).build(),
      nodes: [node('a1').zone('a').info(...webPods('a1', 1)), node('b1').zone('b').info(...webPods('b1', 1))],
      want: { a1: SKEW, b1: SKEW },
    },
    {
      name: "nodeAffinityPolicy Honor (default): zones outside the pod's nodeSelector are no domains",
      incoming: web('new')
        .nodeSelector({ disk: 'ssd' })
        .spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule')] })
        .build(),
      nodes: [node('a1').zone('a').label('disk', 'ssd').info(...webPods('a1', 1)), node('b1').zone('b').label('disk', 'ssd').info(...webPods('b1', 1)), node('c1').zone('c').info()],
      want: { a1: 'ok', b1: 'ok', c1: 'ok' },
    },
    {
      name: 'nodeAffinityPolicy Ignore: the empty zone outside the nodeSelector still counts',
      incoming: web('new')
        .nodeSelector({ disk: 'ssd' })
        .spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule', { nodeAffinityPolicy: 'Ignore' })] })
        .build(),
      nodes: [node('a1').zone('a').label('disk', 'ssd').info(...webPods('a1', 1)), node('b1').zone('b').label('disk', 'ssd').info(...webPods('b1', 1)), node('c1').zone('c').info()],
      want: { a1: SKEW, b1: SKEW, c1: 'ok' },
    },
    {
      name: 'required node affinity counts like a nodeSelector',
      incoming: web('new')
        .spec({
          topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule')],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_LABEL, operator: 'NotIn', values: ['c'] }] }] },
            },
          },
        })
        .build(),
      nodes: [node('a1').zone('a').info(...webPods('a1', 1)), node('b1').zone('b').info(...webPods('b1', 1)), node('c1').zone('c').info()],
      want: { a1: 'ok', b1: 'ok', c1: 'ok' },
    },
    {
      name: 'nodeTaintsPolicy Honor: a zone of untolerated tainted nodes is no domain',
      incoming: web('new').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule', { nodeTaintsPolicy: 'Honor' })] }).build(),
      nodes: [node('a1').zone('a').info(...webPods('a1', 1)), node('b1').zone('b').taint('dedicated', 'gpu', 'NoSchedule').info()],
      want: { a1: 'ok', b1: 'ok' },
    },
    {
      name: 'nodeTaintsPolicy Ignore (default): the tainted empty zone still counts',
      incoming: web('new').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule')] }).build(),
      nodes: [node('a1').zone('a').info(...webPods('a1', 1)), node('b1').zone('b').taint('dedicated', 'gpu', 'NoSchedule').info()],
      want: { a1: SKEW, b1: 'ok' },
    },
    {
      name: 'matchLabelKeys narrows the group to pods of the same revision',
      incoming: web('new')
        .label('pod-template-hash', 'v2')
        .spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule', { matchLabelKeys: ['pod-template-hash'] })] })
        .build(),
      nodes: [
        node('a1').zone('a').info(web('old-1').label('pod-template-hash', 'v1').node('a1').build(), web('old-2').label('pod-template-hash', 'v1').node('a1').build()),
        node('b1').zone('b').info(),
      ],
      want: { a1: 'ok', b1: 'ok' },
    },
    {
      name: 'pods of other namespaces and terminating pods are not counted',
      incoming: web('new').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule')] }).build(),
      nodes: [
        node('a1').zone('a').info(web('elsewhere', 'other').node('a1').build(), terminating(web('leaving').node('a1').build())),
        node('a2').zone('a').info(web('gone', 'other').node('a2').build()),
        node('b1').zone('b').info(),
      ],
      want: { a1: 'ok', a2: 'ok', b1: 'ok' },
    },
  ];

  it.each(cases)('$name', ({ incoming, nodes, want }) => {
    const { preFilter, results } = filterAll(incoming, nodes);
    expect(preFilter.code).toBe(Code.Success);
    expect(results).toEqual(want);
  });

  it('skips a pod with only ScheduleAnyway constraints, or with no constraints and no controller', () => {
    const nodes = [node('a1').zone('a').info()];
    expect(filterAll(web('soft').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'ScheduleAnyway')] }).build(), nodes).preFilter.code).toBe(Code.Skip);
    expect(filterAll(web('plain').build(), nodes).preFilter.code).toBe(Code.Skip);
  });

  it('a constraint selector it cannot parse is an error', () => {
    const bad = web('bad')
      .spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule', { labelSelector: { matchExpressions: [{ key: 'app', operator: 'Near' }] } })] })
      .build();
    const { preFilter } = filterAll(bad, [node('a1').zone('a').info()]);
    expect(preFilter.code).toBe(Code.Error);
    expect(preFilter.message()).toMatch(/^obtaining pod's hard topology spread constraints/);
  });
});

describe('PodTopologySpread PreFilterExtensions', () => {
  const incoming = web('new').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule')] }).build();

  it('removing a replica from the crowded zone lets its node pass, in the cloned state only', () => {
    const crowded = webPods('a1', 2);
    const nodes = [node('a1').zone('a').info(...crowded), node('b1').zone('b').info(...webPods('b1', 1))];
    const { plugin, state, results } = filterAll(incoming, nodes);
    expect(results['a1']).toBe(SKEW);

    const trial = state.clone();
    const a1 = nodes[0]!.clone();
    a1.removePod(crowded[0]!);
    expect(plugin.preFilterExtensions().removePod(trial, incoming, podInfoFor(crowded[0]!), a1).isSuccess()).toBe(true);
    expect(describeStatus(plugin.filter(trial, incoming, a1))).toBe('ok');
    expect(describeStatus(plugin.filter(state, incoming, nodes[0]!))).toBe(SKEW);
  });

  it('adding a replica to the empty zone raises the global minimum', () => {
    const nodes = [node('a1').zone('a').info(...webPods('a1', 1)), node('b1').zone('b').info()];
    const { plugin, state, results } = filterAll(incoming, nodes);
    expect(results).toEqual({ a1: SKEW, b1: 'ok' });
    plugin.addPod(state, incoming, podInfoFor(web('added').node('b1').build()), nodes[1]!);
    expect(describeStatus(plugin.filter(state, incoming, nodes[0]!))).toBe('ok');
    plugin.addPod(state, incoming, podInfoFor(web('added-2').node('b1').build()), nodes[1]!);
    expect(describeStatus(plugin.filter(state, incoming, nodes[1]!))).toBe(SKEW);
  });

  it('ignores added pods of another namespace', () => {
    const nodes = [node('a1').zone('a').info(), node('b1').zone('b').info()];
    const { plugin, state } = filterAll(incoming, nodes);
    plugin.addPod(state, incoming, podInfoFor(web('x', 'other').node('a1').build()), nodes[0]!);
    plugin.addPod(state, incoming, podInfoFor(web('y', 'other').node('a1').build()), nodes[0]!);
    expect(describeStatus(plugin.filter(state, incoming, nodes[0]!))).toBe('ok');
  });
});

function scoreAll(incoming: Pod, nodes: NodeInfo[], args: Record<string, unknown> = {}, candidates: NodeInfo[] = nodes) {
  const plugin = factory(args, handleFor(nodes)) as PodTopologySpread;
  const state = new CycleState();
  const status = plugin.preScore(state, incoming, candidates);
  if (!status.isSuccess()) return { status, raw: {}, scores: {} };
  const list: NodeScore[] = candidates.map((info) => ({ name: info.name, score: plugin.score(state, incoming, info).score }));
  const raw = Object.fromEntries(list.map(({ name, score }) => [name, score]));
  expect(plugin.scoreExtensions().normalizeScore(state, incoming, list).isSuccess()).toBe(true);
  return { status, raw, scores: Object.fromEntries(list.map(({ name, score }) => [name, score])) };
}

describe('PodTopologySpread Score', () => {
  it('prefers the emptier zone', () => {
    const incoming = web('new').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'ScheduleAnyway')] }).build();
    const nodes = [node('a1').zone('a').info(...webPods('a1', 3)), node('b1').zone('b').info(...webPods('b1', 1)), node('c1').zone('c').info()];
    const { raw, scores } = scoreAll(incoming, nodes);
    // log(3 zones + 2) = 1.609...: 3 pods -> 4.83 -> 5, 1 pod -> 1.6 -> 2, none -> 0.
    expect(raw).toEqual({ a1: 5, b1: 2, c1: 0 });
    // 100 * (max + min - score) / max.
    expect(scores).toEqual({ a1: 0, b1: 60, c1: 100 });
  });

  it('counts the whole zone, not just the candidate node', () => {
    const incoming = web('new').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'ScheduleAnyway')] }).build();
    const nodes = [node('a1').zone('a').info(), node('a2').zone('a').info(...webPods('a2', 2)), node('b1').zone('b').info(...webPods('b1', 1))];
    // a2 failed Filter: it is no candidate, but its pods still crowd zone a.
    const { scores } = scoreAll(incoming, nodes, {}, [nodes[0]!, nodes[2]!]);
    expect(scores['b1']).toBeGreaterThan(scores['a1']!);
  });

  it('spreads over hosts and zones at once', () => {
    const incoming = web('new')
      .spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'ScheduleAnyway'), spread(1, HOSTNAME_LABEL, 'ScheduleAnyway')] })
      .build();
    const nodes = [node('a1').zone('a').info(...webPods('a1', 2)), node('a2').zone('a').info(), node('b1').zone('b').info(...webPods('b1', 1)), node('b2').zone('b').info()];
    const { raw, scores } = scoreAll(incoming, nodes);
    // Zones weigh log(2 + 2), hosts log(4 + 2): a1 = 2*1.39 + 2*1.79, a2 = 2*1.39, b1 = 1.39 + 1.79, b2 = 1.39.
    expect(raw).toEqual({ a1: 6, a2: 3, b1: 3, b2: 1 });
    expect(scores).toEqual({ a1: 16, a2: 66, b1: 66, b2: 100 });
  });

  it('nodes missing a topology key of explicit constraints score 0', () => {
    const incoming = web('new').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'ScheduleAnyway')] }).build();
    const nodes = [node('a1').zone('a').info(...webPods('a1', 1)), node('bare').info()];
    expect(scoreAll(incoming, nodes).scores).toEqual({ a1: 100, bare: 0 });
  });

  it('maxSkew waters differences down', () => {
    const tight = web('new').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'ScheduleAnyway')] }).build();
    const loose = web('new').spec({ topologySpreadConstraints: [spread(10, ZONE_LABEL, 'ScheduleAnyway')] }).build();
    const nodes = [node('a1').zone('a').info(...webPods('a1', 2)), node('b1').zone('b').info()];
    expect(scoreAll(tight, nodes).scores).toEqual({ a1: 0, b1: 100 });
    expect(scoreAll(loose, nodes).scores['a1']).toBeGreaterThan(50);
  });
});

describe('PodTopologySpread default constraints', () => {
  const replica = (name: string, owner: string) => web(name).owner('ReplicaSet', owner);

  it('spread the pods of one controller over hosts and zones', () => {
    const nodes = [
      node('n1').zone('a').info(replica('r1', 'rs1').node('n1').build(), replica('r2', 'rs1').node('n1').build()),
      node('n2').zone('a').info(replica('r3', 'rs1').node('n2').build()),
      // Pods of another controller (same labels) do not count.
      node('n3').zone('b').info(...Array.from({ length: 5 }, (_, i) => replica(`o${i}`, 'rs2').node('n3').build())),
    ];
    const { status, scores } = scoreAll(replica('new', 'rs1').build(), nodes);
    expect(status.code).toBe(Code.Success);
    expect(scores['n3']).toBe(100);
    expect(scores['n1']!).toBeLessThan(scores['n2']!);
    expect(scores['n2']!).toBeLessThan(scores['n3']!);
  });

  it('still spread by hostname over nodes without a zone label', () => {
    const nodes = [node('n1').info(replica('r1', 'rs1').node('n1').build(), replica('r2', 'rs1').node('n1').build()), node('n2').info()];
    const { scores } = scoreAll(replica('new', 'rs1').build(), nodes);
    expect(scores['n2']!).toBeGreaterThan(scores['n1']!);
  });

  it('give a pod without a controller no constraints', () => {
    expect(scoreAll(web('orphan').build(), [node('n1').info()]).status.code).toBe(Code.Skip);
  });

  it('do not apply to a pod with constraints of its own', () => {
    const own = replica('new', 'rs1').spec({ topologySpreadConstraints: [spread(1, ZONE_LABEL, 'DoNotSchedule')] }).build();
    expect(scoreAll(own, [node('n1').zone('a').info()]).status.code).toBe(Code.Skip);
  });

  it("listed defaults (defaultingType List) can filter a controller's pods", () => {
    const args = { defaultingType: 'List', defaultConstraints: [{ maxSkew: 1, topologyKey: ZONE_LABEL, whenUnsatisfiable: 'DoNotSchedule' }] };
    const nodes = [node('a1').zone('a').info(replica('r1', 'rs1').node('a1').build()), node('b1').zone('b').info(replica('x', 'rs2').node('b1').build())];
    expect(filterAll(replica('new', 'rs1').build(), nodes, args).results).toEqual({ a1: SKEW, b1: 'ok' });
  });

  it('reject invalid args', () => {
    expect(() => factory({ defaultingType: 'System', defaultConstraints: [{ maxSkew: 1, topologyKey: ZONE_LABEL, whenUnsatisfiable: 'ScheduleAnyway' }] }, handleFor([]))).toThrow(
      /when \.defaultConstraints are not empty/,
    );
    expect(() => factory({ defaultingType: 'Sometimes' }, handleFor([]))).toThrow(/Unsupported value/);
  });
});

describe('PodTopologySpread plugin', () => {
  it('is named as upstream and registers pod and node events', () => {
    const plugin = new PodTopologySpread(handleFor([]));
    expect(plugin.name).toBe(NAME);
    expect(NAME).toBe('PodTopologySpread');
    expect(plugin.eventsToRegister()).toEqual(expect.arrayContaining([{ resource: 'Pod', action: 'Delete' }, { resource: 'Node', action: 'Update' }]));
  });

  it('filters and scores 5,000 nodes', () => {
    const nodes: NodeInfo[] = [];
    for (let i = 0; i < 5000; i++) {
      const pods = i % 2 === 0 ? webPods(`n${i}`, 1) : [];
      pods.push(pod(`other-${i}`).node(`n${i}`).build());
      nodes.push(node(`n${i}`).zone(`z${i % 10}`).info(...pods));
    }
    const incoming = web('new').spec({ topologySpreadConstraints: [spread(1, HOSTNAME_LABEL, 'DoNotSchedule'), spread(1, ZONE_LABEL, 'ScheduleAnyway')] }).build();
    const { results } = filterAll(incoming, nodes);
    const passing = nodes.filter((info) => results[info.name] === 'ok');
    const { scores } = scoreAll(incoming, nodes, {}, passing);
    expect(passing).toHaveLength(2500);
    expect(Object.keys(scores)).toHaveLength(2500);
  });
});
