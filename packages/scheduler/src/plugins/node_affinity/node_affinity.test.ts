import { describe, expect, it } from 'vitest';
import type { NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle_state.js';
import type { Handle } from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node_info.js';
import { Code } from '../../framework/status.js';
import { node, pod } from '../../testing/builders.js';
import { defaultNormalizeScore } from './normalize_score.js';
import { NAME, NodeAffinity, factory, nodeSelectorMatches, podMatchesNodeSelectorAndAffinity } from './index.js';

const plugin = new NodeAffinity();

function requiring(...terms: NodeSelectorTerm[]): Pod {
  return pod('p').spec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } }).build();
}

function preferring(...terms: PreferredSchedulingTerm[]): Pod {
  return pod('p').spec({ affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: terms } } }).build();
}

function expr(key: string, operator: string, ...values: string[]): NodeSelectorRequirement {
  return { key, operator, ...(values.length > 0 ? { values } : {}) };
}

function filter(target: Pod, info: NodeInfo, withPlugin = plugin) {
  const state = new CycleState();
  const { status } = withPlugin.preFilter(state, target);
  if (status.isSkip()) return status;
  if (!status.isSuccess()) return status;
  return withPlugin.filter(state, target, info);
}

function scores(target: Pod, infos: NodeInfo[], withPlugin = plugin): Record<string, number> {
  const state = new CycleState();
  withPlugin.preScore(state, target);
  const list = infos.map((info) => ({ name: info.name, score: withPlugin.score(state, target, info).score }));
  withPlugin.normalizeScore(state, target, list);
  return Object.fromEntries(list.map(({ name, score }) => [name, score]));
}

const ssd = node('ssd').label('disk', 'ssd').label('cores', '16').zone('a').info();
const hdd = node('hdd').label('disk', 'hdd').label('cores', '4').zone('b').info();
const bare = node('bare').info();

describe('NodeAffinity Filter: nodeSelector', () => {
  it('admits a node with every selected label and rejects the others for good', () => {
    const target = pod('p').nodeSelector({ disk: 'ssd', 'topology.kubernetes.io/zone': 'a' }).build();
    expect(filter(target, ssd).isSuccess()).toBe(true);
    const status = filter(target, hdd);
    expect(status.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(status.reasons).toEqual(["node(s) didn't match Pod's node affinity/selector"]);
    expect(filter(target, bare).isSuccess()).toBe(false);
  });

  it('skips a pod with neither nodeSelector nor required affinity', () => {
    expect(plugin.preFilter(new CycleState(), pod('p').build()).status.isSkip()).toBe(true);
  });
});

describe('NodeAffinity Filter: required node affinity', () => {
  it.each<[string, NodeSelectorRequirement, string[]]>([
    ['In', expr('disk', 'In', 'ssd', 'nvme'), ['ssd']],
    ['NotIn (a missing label is not in)', expr('disk', 'NotIn', 'ssd'), ['hdd', 'bare']],
    ['Exists', expr('disk', 'Exists'), ['ssd', 'hdd']],
    ['DoesNotExist', expr('disk', 'DoesNotExist'), ['bare']],
    ['Gt compares integers', expr('cores', 'Gt', '8'), ['ssd']],
    ['Lt compares integers', expr('cores', 'Lt', '8'), ['hdd']],
    ['Gt with a non-integer value is malformed and matches nothing', expr('cores', 'Gt', 'eight'), []],
    ['In without values is malformed', expr('disk', 'In'), []],
    ['an unknown operator is malformed', expr('disk', 'Like', 'ssd'), []],
  ])('%s', (_name, requirement, admitted) => {
    const target = requiring({ matchExpressions: [requirement] });
    const passed = [ssd, hdd, bare].filter((info) => filter(target, info).isSuccess()).map((info) => info.name);
    expect(passed).toEqual(admitted);
  });

  it('ANDs the expressions of a term and ORs the terms', () => {
    const and = requiring({ matchExpressions: [expr('disk', 'Exists'), expr('topology.kubernetes.io/zone', 'In', 'b')] });
    expect([ssd, hdd, bare].filter((info) => filter(and, info).isSuccess()).map((info) => info.name)).toEqual(['hdd']);
    const or = requiring({ matchExpressions: [expr('disk', 'In', 'ssd')] }, { matchExpressions: [expr('disk', 'DoesNotExist')] });
    expect([ssd, hdd, bare].filter((info) => filter(or, info).isSuccess()).map((info) => info.name)).toEqual(['ssd', 'bare']);
  });

  it('matches no node with an empty term, but a malformed term does not spoil a good one', () => {
    expect(filter(requiring({}), ssd).isSuccess()).toBe(false);
    const mixed = requiring({ matchExpressions: [expr('cores', 'Gt', 'x')] }, { matchExpressions: [expr('disk', 'In', 'hdd')] });
    expect(filter(mixed, hdd).isSuccess()).toBe(true);
  });

  it('matches fields on metadata.name', () => {
    const target = requiring({ matchFields: [expr('metadata.name', 'NotIn', 'ssd')] });
    expect(filter(target, ssd).isSuccess()).toBe(false);
    expect(filter(target, hdd).isSuccess()).toBe(true);
  });

  it('requires nodeSelector AND affinity', () => {
    const target = pod('p')
      .nodeSelector({ 'topology.kubernetes.io/zone': 'a' })
      .spec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [expr('disk', 'In', 'hdd')] }] } } } })
      .build();
    expect(filter(target, ssd).isSuccess()).toBe(false);
    expect(filter(target, hdd).isSuccess()).toBe(false);
    expect(podMatchesNodeSelectorAndAffinity(target, node('x').zone('a').label('disk', 'hdd').build())).toBe(true);
  });

  it('exports plain NodeSelector matching for other users (PV node affinity)', () => {
    const selector = { nodeSelectorTerms: [{ matchExpressions: [expr('disk', 'In', 'ssd')] }] };
    expect(nodeSelectorMatches(selector, ssd.node!)).toBe(true);
    expect(nodeSelectorMatches(selector, hdd.node!)).toBe(false);
  });
});

describe('NodeAffinity PreFilter: narrowing to named nodes', () => {
  const names = (target: Pod) => {
    const { result, status } = plugin.preFilter(new CycleState(), target);
    return { names: result?.nodeNames === undefined ? undefined : [...result.nodeNames].sort(), status };
  };
  const named = (...values: string[]): NodeSelectorRequirement => expr('metadata.name', 'In', ...values);

  it('intersects the names of one term and unites those of several', () => {
    expect(names(requiring({ matchFields: [named('a', 'b'), named('b', 'c')] })).names).toEqual(['b']);
    expect(names(requiring({ matchFields: [named('a')] }, { matchFields: [named('c')] })).names).toEqual(['a', 'c']);
  });

  it('does not narrow when some term names no node', () => {
    expect(names(requiring({ matchFields: [named('a')] }, { matchExpressions: [expr('disk', 'Exists')] })).names).toBeUndefined();
    expect(names(pod('p').nodeSelector({ disk: 'ssd' }).build()).names).toBeUndefined();
  });

  it('says the terms conflict when no name survives', () => {
    const { status } = names(requiring({ matchFields: [named('a'), named('b')] }));
    expect(status.code).toBe(Code.UnschedulableAndUnresolvable);
    expect(status.reasons).toEqual(['pod affinity terms conflict']);
  });
});

describe('NodeAffinity Score', () => {
  const zoneA = { weight: 5, preference: { matchExpressions: [expr('topology.kubernetes.io/zone', 'In', 'a')] } };
  const anyDisk = { weight: 3, preference: { matchExpressions: [expr('disk', 'Exists')] } };

  it('sums the weights of matching preferred terms and scales to 100', () => {
    // raw: ssd 5 + 3 = 8, hdd 3, bare 0; normalized 100 * raw / 8, truncated.
    expect(scores(preferring(zoneA, anyDisk), [ssd, hdd, bare])).toEqual({ ssd: 100, hdd: 37, bare: 0 });
  });

  it('ignores weight-0 terms and leaves all-zero scores at 0', () => {
    const zero = { weight: 0, preference: { matchExpressions: [expr('disk', 'Exists')] } };
    expect(scores(preferring(zero), [ssd, bare])).toEqual({ ssd: 0, bare: 0 });
  });

  it('skips a pod without preferences and reports malformed ones as an error', () => {
    expect(plugin.preScore(new CycleState(), pod('p').build()).isSkip()).toBe(true);
    const bad = preferring({ weight: 1, preference: { matchExpressions: [expr('cores', 'Lt', 'few')] } });
    expect(plugin.preScore(new CycleState(), bad).code).toBe(Code.Error);
  });
});

describe('NodeAffinity addedAffinity (scheduler-enforced)', () => {
  const enforced = new NodeAffinity({
    addedAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [expr('disk', 'Exists')] }] },
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 2, preference: { matchExpressions: [expr('disk', 'In', 'ssd')] } }],
    },
  });

  it('filters every pod, with its own reason', () => {
    const status = filter(pod('p').build(), bare, enforced);
    expect(status.reasons).toEqual(["node(s) didn't match scheduler-enforced node affinity"]);
    expect(filter(pod('p').build(), hdd, enforced).isSuccess()).toBe(true);
  });

  it('adds its preferred terms to every pod', () => {
    expect(scores(pod('p').build(), [ssd, hdd], enforced)).toEqual({ ssd: 100, hdd: 0 });
  });

  it('refuses malformed added terms', () => {
    expect(() => new NodeAffinity({ addedAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [expr('a', 'In')] }] } } })).toThrow(/addedAffinity/);
  });
});

describe('defaultNormalizeScore', () => {
  it.each<[string, number[], boolean, number[]]>([
    ['scales to the highest', [0, 1, 3], false, [0, 33, 100]],
    ['reverses', [0, 1, 3], true, [100, 67, 0]],
    ['leaves all zeros', [0, 0], false, [0, 0]],
    ['reverses all zeros to the maximum', [0, 0], true, [100, 100]],
  ])('%s', (_name, raw, reverse, expected) => {
    const list = raw.map((score, index) => ({ name: `n${index}`, score }));
    defaultNormalizeScore(100, reverse, list);
    expect(list.map(({ score }) => score)).toEqual(expected);
  });
});

describe('NodeAffinity plugin', () => {
  it('is built by its factory from args under its upstream name and requeues on node events', () => {
    const built = factory({ addedAffinity: {} }, {} as Handle) as NodeAffinity;
    expect([NAME, built.name]).toEqual(['NodeAffinity', 'NodeAffinity']);
    expect(built.eventsToRegister()).toEqual([
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ]);
  });
});
