import { describe, expect, it } from 'vitest';
import type { PodAffinityTerm, Pod, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle_state.js';
import type { Handle, NodeInfoLister, NodeScore } from '../../framework/interfaces.js';
import { podInfoFor, type NodeInfo } from '../../framework/node_info.js';
import { Code, Status } from '../../framework/status.js';
import { HOSTNAME_LABEL, node, pod, ZONE_LABEL } from '../../testing/builders.js';
import {
  ERR_REASON_AFFINITY_RULES_NOT_MATCH,
  ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
  ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
  factory,
  InterPodAffinity,
} from './index.js';

function handleFor(nodes: readonly NodeInfo[], namespaces: Record<string, Record<string, string>> = {}): Handle {
  const lister: NodeInfoLister = {
    list: () => nodes,
    get: (name) => nodes.find((info) => info.name === name),
    havePodsWithAffinityList: () => nodes.filter((info) => info.podsWithAffinity.length > 0),
    havePodsWithRequiredAntiAffinityList: () => nodes.filter((info) => info.podsWithRequiredAntiAffinity.length > 0),
  };
  return {
    snapshot: () => lister,
    namespaceLabels: (namespace) => namespaces[namespace],
    runFilterPlugins: () => Status.success(),
    runPreFilterExtensionAddPod: () => Status.success(),
    runPreFilterExtensionRemovePod: () => Status.success(),
    evictPod: async () => {},
    nominatedPodsForNode: () => [],
  };
}

function term(topologyKey: string, matchLabels: Record<string, string>, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm {
  return { topologyKey, labelSelector: { matchLabels }, ...extra };
}

function weighted(weight: number, podAffinityTerm: PodAffinityTerm): WeightedPodAffinityTerm {
  return { weight, podAffinityTerm };
}

const requiredAffinity = (...terms: PodAffinityTerm[]) => ({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } } });
const requiredAntiAffinity = (...terms: PodAffinityTerm[]) => ({
  affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } },
});

/** PreFilter, then Filter on every node: node name -> "ok", or "code: reason". */
function filterAll(incoming: Pod, nodes: NodeInfo[], namespaces: Record<string, Record<string, string>> = {}) {
  const plugin = new InterPodAffinity(handleFor(nodes, namespaces));
  const state = new CycleState();
  const pre = plugin.preFilter(state, incoming, nodes);
  if (!pre.status.isSuccess()) return { preFilter: pre.status, results: {} };
  const results: Record<string, string> = {};
  for (const info of nodes) results[info.name] = describeStatus(plugin.filter(state, incoming, info));
  return { preFilter: pre.status, results, plugin, state };
}

function describeStatus(status: Status): string {
  return status.isSuccess() ? 'ok' : `${status.code}: ${status.message()}`;
}

const AFFINITY = `${Code.UnschedulableAndUnresolvable}: ${ERR_REASON_AFFINITY_RULES_NOT_MATCH}`;
const ANTI_AFFINITY = `${Code.Unschedulable}: ${ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH}`;
const EXISTING_ANTI_AFFINITY = `${Code.Unschedulable}: ${ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH}`;

describe('InterPodAffinity Filter', () => {
  const web = (name: string, namespace?: string) => pod(name, namespace).label('app', 'web');
  const db = (name: string, namespace?: string) => pod(name, namespace).label('app', 'db');

  const cases: { name: string; incoming: Pod; nodes: NodeInfo[]; namespaces?: Record<string, Record<string, string>>; want: Record<string, string> }[] = [
    {
      name: 'anti-affinity keeps replicas off a host that runs one',
      incoming: web('web-2').spec(requiredAntiAffinity(term(HOSTNAME_LABEL, { app: 'web' }))).build(),
      nodes: [node('n1').info(web('web-1').node('n1').build()), node('n2').info(db('db-1').node('n2').build())],
      want: { n1: ANTI_AFFINITY, n2: 'ok' },
    },
    {
      name: 'affinity to a zone holding a matching pod admits every node of that zone',
      incoming: web('web').spec(requiredAffinity(term(ZONE_LABEL, { app: 'db' }))).build(),
      nodes: [node('n1').zone('a').info(db('db').node('n1').build()), node('n2').zone('a').info(), node('n3').zone('b').info(), node('n4').info()],
      want: { n1: 'ok', n2: 'ok', n3: AFFINITY, n4: AFFINITY },
    },
    {
      name: 'the first pod of a group with affinity to itself may go to any node with the topology label',
      incoming: web('web-1').spec(requiredAffinity(term(ZONE_LABEL, { app: 'web' }))).build(),
      nodes: [node('n1').zone('a').info(), node('n2').zone('b').info(), node('n3').info()],
      want: { n1: 'ok', n2: 'ok', n3: AFFINITY },
    },
    {
      name: 'once one pod of the group runs, the next must join its zone',
      incoming: web('web-2').spec(requiredAffinity(term(ZONE_LABEL, { app: 'web' }))).build(),
      nodes: [node('n1').zone('a').info(web('web-1').node('n1').build()), node('n2').zone('b').info()],
      want: { n1: 'ok', n2: AFFINITY },
    },
    {
      name: 'a pod not matching its own affinity gets no first-pod exception',
      incoming: web('web').spec(requiredAffinity(term(ZONE_LABEL, { app: 'db' }))).build(),
      nodes: [node('n1').zone('a').info()],
      want: { n1: AFFINITY },
    },
    {
      name: "symmetry: an existing pod's anti-affinity rejects the newcomer in its whole zone",
      incoming: web('web').build(),
      nodes: [
        node('n1').zone('a').info(pod('loner').node('n1').spec(requiredAntiAffinity(term(ZONE_LABEL, { app: 'web' }))).build()),
        node('n2').zone('a').info(),
        node('n3').zone('b').info(),
      ],
      want: { n1: EXISTING_ANTI_AFFINITY, n2: EXISTING_ANTI_AFFINITY, n3: 'ok' },
    },
    {
      name: 'terms see only their own namespace by default',
      incoming: web('web').spec(requiredAffinity(term(HOSTNAME_LABEL, { app: 'db' }))).build(),
      nodes: [node('n1').info(db('db', 'other').node('n1').build()), node('n2').info(db('db').node('n2').build())],
      want: { n1: AFFINITY, n2: 'ok' },
    },
    {
      name: 'namespaceSelector widens a term to the namespaces whose labels match',
      incoming: web('web').spec(requiredAffinity(term(HOSTNAME_LABEL, { app: 'db' }, { namespaceSelector: { matchLabels: { env: 'prod' } } }))).build(),
      nodes: [node('n1').info(db('db', 'prod-1').node('n1').build()), node('n2').info(db('db', 'dev-1').node('n2').build()), node('n3').info(db('db').node('n3').build())],
      namespaces: { 'prod-1': { env: 'prod' }, 'dev-1': { env: 'dev' }, default: {} },
      want: { n1: 'ok', n2: AFFINITY, n3: AFFINITY },
    },
    {
      name: 'an empty namespaceSelector selects every namespace',
      incoming: web('web').spec(requiredAntiAffinity(term(HOSTNAME_LABEL, { app: 'db' }, { namespaceSelector: {} }))).build(),
      nodes: [node('n1').info(db('db', 'elsewhere').node('n1').build()), node('n2').info()],
      namespaces: { elsewhere: {} },
      want: { n1: ANTI_AFFINITY, n2: 'ok' },
    },
    {
      name: "an existing pod's namespaceSelector is matched against the newcomer's namespace labels",
      incoming: web('web', 'team-a').build(),
      nodes: [
        node('n1').info(
          pod('guard', 'infra')
            .node('n1')
            .spec(requiredAntiAffinity(term(HOSTNAME_LABEL, { app: 'web' }, { namespaceSelector: { matchLabels: { tier: 'frontend' } } })))
            .build(),
        ),
        node('n2').info(),
      ],
      namespaces: { 'team-a': { tier: 'frontend' }, infra: {} },
      want: { n1: EXISTING_ANTI_AFFINITY, n2: 'ok' },
    },
    {
      name: 'affinity and anti-affinity together: a db zone, but not a web host',
      incoming: web('web-2')
        .spec({
          affinity: {
            podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(ZONE_LABEL, { app: 'db' })] },
            podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(HOSTNAME_LABEL, { app: 'web' })] },
          },
        })
        .build(),
      nodes: [node('n1').zone('a').info(db('db').node('n1').build(), web('web-1').node('n1').build()), node('n2').zone('a').info(), node('n3').zone('b').info()],
      want: { n1: ANTI_AFFINITY, n2: 'ok', n3: AFFINITY },
    },
  ];

  it.each(cases)('$name', ({ incoming, nodes, namespaces, want }) => {
    const { preFilter, results } = filterAll(incoming, nodes, namespaces);
    expect(preFilter.code).toBe(Code.Success);
    expect(results).toEqual(want);
  });

  it('skips a pod without required terms when no existing pod has anti-affinity against it', () => {
    const nodes = [node('n1').info(pod('other').node('n1').spec(requiredAntiAffinity(term(HOSTNAME_LABEL, { app: 'db' }))).build())];
    const { preFilter } = filterAll(web('web').build(), nodes);
    expect(preFilter.code).toBe(Code.Skip);
  });

  it('rejects a pod whose selector cannot be parsed as unresolvable', () => {
    const bad = web('web')
      .spec(requiredAffinity({ topologyKey: ZONE_LABEL, labelSelector: { matchExpressions: [{ key: 'app', operator: 'Near', values: ['x'] }] } }))
      .build();
    const { preFilter } = filterAll(bad, [node('n1').info()]);
    expect(preFilter.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(preFilter.message()).toMatch(/^parsing pod: /);
  });
});

describe('InterPodAffinity PreFilterExtensions', () => {
  it('removing the conflicting replica lets the node pass, in the cloned state only', () => {
    const victim = pod('web-1').label('app', 'web').node('n1').build();
    const nodes = [node('n1').info(victim), node('n2').info()];
    const incoming = pod('web-2').label('app', 'web').spec(requiredAntiAffinity(term(HOSTNAME_LABEL, { app: 'web' }))).build();
    const { plugin, state } = filterAll(incoming, nodes);
    const n1 = nodes[0]!;
    expect(describeStatus(plugin!.filter(state!, incoming, n1))).toBe(ANTI_AFFINITY);

    const trial = state!.clone();
    const trialNode = n1.clone();
    trialNode.removePod(victim);
    expect(plugin!.preFilterExtensions().removePod(trial, incoming, podInfoFor(victim), trialNode).isSuccess()).toBe(true);
    expect(describeStatus(plugin!.filter(trial, incoming, trialNode))).toBe('ok');
    expect(describeStatus(plugin!.filter(state!, incoming, n1))).toBe(ANTI_AFFINITY);
  });

  it('adding and removing an existing pod with anti-affinity flips the symmetric check', () => {
    const nodes = [node('n1').zone('a').info(), node('n2').zone('b').info()];
    const incoming = pod('web').label('app', 'web').spec(requiredAntiAffinity(term(HOSTNAME_LABEL, { app: 'db' }))).build();
    const { plugin, state } = filterAll(incoming, nodes);
    const guard = podInfoFor(pod('guard').node('n2').spec(requiredAntiAffinity(term(ZONE_LABEL, { app: 'web' }))).build());
    const n2 = nodes[1]!;
    const trial = state!.clone();
    plugin!.addPod(trial, incoming, guard, n2);
    expect(describeStatus(plugin!.filter(trial, incoming, n2))).toBe(EXISTING_ANTI_AFFINITY);
    expect(describeStatus(plugin!.filter(trial, incoming, nodes[0]!))).toBe('ok');
    expect(describeStatus(plugin!.filter(state!, incoming, n2))).toBe('ok');
    plugin!.removePod(trial, incoming, guard, n2);
    expect(describeStatus(plugin!.filter(trial, incoming, n2))).toBe('ok');
  });

  it('adding a matching pod satisfies required affinity on its zone', () => {
    const nodes = [node('n1').zone('a').info(pod('cache-1').label('app', 'cache').node('n1').build()), node('n2').zone('b').info()];
    const incoming = pod('web').label('app', 'web').spec(requiredAffinity(term(ZONE_LABEL, { app: 'cache' }))).build();
    const { plugin, state } = filterAll(incoming, nodes);
    const n2 = nodes[1]!;
    expect(describeStatus(plugin!.filter(state!, incoming, n2))).toBe(AFFINITY);
    plugin!.addPod(state!, incoming, podInfoFor(pod('cache-2').label('app', 'cache').node('n2').build()), n2);
    expect(describeStatus(plugin!.filter(state!, incoming, n2))).toBe('ok');
  });
});

/** PreScore, Score and NormalizeScore over `nodes`: node name -> normalized score. */
function scoreAll(incoming: Pod, nodes: NodeInfo[], args: Record<string, unknown> = {}, namespaces: Record<string, Record<string, string>> = {}) {
  const plugin = factory(args, handleFor(nodes, namespaces)) as InterPodAffinity;
  const state = new CycleState();
  const status = plugin.preScore(state, incoming, nodes);
  if (!status.isSuccess()) return { status, scores: {} };
  const list: NodeScore[] = nodes.map((info) => ({ name: info.name, score: plugin.score(state, incoming, info).score }));
  const raw = Object.fromEntries(list.map(({ name, score }) => [name, score]));
  expect(plugin.scoreExtensions().normalizeScore(state, incoming, list).isSuccess()).toBe(true);
  return { status, raw, scores: Object.fromEntries(list.map(({ name, score }) => [name, score])) };
}

describe('InterPodAffinity Score', () => {
  it('prefers the zone of a preferred pod and avoids the host of an unwanted one', () => {
    const incoming = pod('web')
      .label('app', 'web')
      .spec({
        affinity: {
          podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(10, term(ZONE_LABEL, { app: 'cache' }))] },
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(5, term(HOSTNAME_LABEL, { app: 'noisy' }))] },
        },
      })
      .build();
    const nodes = [
      node('n1').zone('a').info(pod('cache').label('app', 'cache').node('n1').build()),
      node('n2').zone('a').info(pod('noisy').label('app', 'noisy').node('n2').build()),
      node('n3').zone('b').info(),
    ];
    const { raw, scores } = scoreAll(incoming, nodes);
    expect(raw).toEqual({ n1: 10, n2: 5, n3: 0 });
    expect(scores).toEqual({ n1: 100, n2: 50, n3: 0 });
  });

  it("counts existing pods' preferred terms and required affinity (hardPodAffinityWeight)", () => {
    const incoming = pod('web').label('app', 'web').build();
    const nodes = [
      node('n1').zone('a').info(pod('likes-web').node('n1').spec(requiredAffinity(term(ZONE_LABEL, { app: 'web' }))).build()),
      node('n2').zone('b').info(
        pod('avoids-web')
          .node('n2')
          .spec({ affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [weighted(3, term(ZONE_LABEL, { app: 'web' }))] } } })
          .build(),
      ),
      node('n3').zone('c').info(),
    ];
    expect(scoreAll(incoming, nodes).raw).toEqual({ n1: 1, n2: -3, n3: 0 });
    expect(scoreAll(incoming, nodes).scores).toEqual({ n1: 100, n2: 0, n3: 75 });
    expect(scoreAll(incoming, nodes, { hardPodAffinityWeight: 5 }).raw).toEqual({ n1: 5, n2: -3, n3: 0 });
    expect(scoreAll(incoming, nodes, { hardPodAffinityWeight: 0 }).raw).toEqual({ n1: 0, n2: -3, n3: 0 });
  });

  it("ignorePreferredTermsOfExistingPods skips scoring for a pod without preferred terms", () => {
    const nodes = [node('n1').zone('a').info(pod('likes-web').node('n1').spec(requiredAffinity(term(ZONE_LABEL, { app: 'web' }))).build())];
    const { status } = scoreAll(pod('web').label('app', 'web').build(), nodes, { ignorePreferredTermsOfExistingPods: true });
    expect(status.code).toBe(Code.Skip);
  });

  it('skips when no pod has terms that apply', () => {
    expect(scoreAll(pod('web').build(), [node('n1').info(pod('plain').node('n1').build())]).status.code).toBe(Code.Skip);
  });

  it('preferred terms honour namespaceSelector', () => {
    const incoming = pod('web')
      .spec({
        affinity: {
          podAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [weighted(7, term(HOSTNAME_LABEL, { app: 'db' }, { namespaceSelector: { matchLabels: { env: 'prod' } } }))],
          },
        },
      })
      .build();
    const nodes = [node('n1').info(pod('db', 'prod').label('app', 'db').node('n1').build()), node('n2').info(pod('db', 'dev').label('app', 'db').node('n2').build())];
    expect(scoreAll(incoming, nodes, {}, { prod: { env: 'prod' }, dev: { env: 'dev' } }).raw).toEqual({ n1: 7, n2: 0 });
  });
});

describe('InterPodAffinity plugin', () => {
  it('registers pod and node events', () => {
    const plugin = new InterPodAffinity(handleFor([]));
    expect(plugin.eventsToRegister()).toEqual(
      expect.arrayContaining([
        { resource: 'Pod', action: 'Add' },
        { resource: 'Pod', action: 'Delete' },
        { resource: 'Node', action: 'Add' },
        { resource: 'Node', action: 'Update' },
      ]),
    );
  });

  it('validates hardPodAffinityWeight', () => {
    expect(() => factory({ hardPodAffinityWeight: 101 }, handleFor([]))).toThrow(/not in valid range \[0-100\]/);
    expect(factory({}, handleFor([])).name).toBe('InterPodAffinity');
  });

  it('finds the one free node among 5,000 holding replicas', () => {
    const nodes: NodeInfo[] = [];
    for (let i = 0; i < 5000; i++) {
      const pods = [pod(`web-${i}`).label('app', 'web').node(`n${i}`).spec(requiredAntiAffinity(term(HOSTNAME_LABEL, { app: 'web' }))).build()];
      for (let j = 0; j < 5; j++) pods.push(pod(`other-${i}-${j}`).label('app', 'other').node(`n${i}`).build());
      nodes.push(node(`n${i}`).zone(`z${i % 3}`).info(...pods));
    }
    nodes.push(node('free').zone('z0').info());
    const incoming = pod('web-new').label('app', 'web').spec(requiredAntiAffinity(term(HOSTNAME_LABEL, { app: 'web' }))).build();
    const { results } = filterAll(incoming, nodes);
    const passing = Object.entries(results).filter(([, result]) => result === 'ok').map(([name]) => name);
    expect(passing).toEqual(['free']);
  });
});
