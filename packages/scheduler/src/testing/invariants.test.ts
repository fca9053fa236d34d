import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { HOSTNAME_LABEL, node, pod, ZONE_LABEL, type PodBuilder } from './builders.js';
import { noNodeOvercommitted, noPodBoundTwice, noPodOnForbiddenNode, noPodsClashing, noSchedulablePodLeftPending } from './invariants.js';
import type { BindingAttempt } from './sim_cluster.js';

function attempt(name: string, node: string, answer: BindingAttempt['answer'] = 'Bound', writer = 'a', time = 1, uid = `uid-pod-default-${name}`): BindingAttempt {
  return { pod: `default/${name}`, uid, node, writer, time, answer };
}

function withPhase(p: Pod, phase: string): Pod {
  return { ...p, status: { ...p.status, phase } };
}

function terminating(p: Pod): Pod {
  return { ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
}

/** One replica per host (or zone) of `app`. */
function antiAffine(builder: PodBuilder, app: string, topologyKey = HOSTNAME_LABEL): PodBuilder {
  return builder.label('app', app).spec({
    affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey }] } },
  });
}

describe('noPodBoundTwice', () => {
  it('accepts a history where every pod was bound once', () => {
    const history = { attempts: [attempt('p', 'n1'), attempt('q', 'n1'), attempt('r', 'n2')] };
    expect(noPodBoundTwice(history)).toEqual([]);
  });

  it("accepts another writer's first try at a pod already bound, which the API refused (two leaders racing)", () => {
    const history = { attempts: [attempt('p', 'n1', 'Bound', 'a', 1), attempt('p', 'n2', 'AlreadyAssigned', 'b', 2)] };
    expect(noPodBoundTwice(history)).toEqual([]);
  });

  it.each([
    {
      name: 'the API accepting a second binding',
      second: attempt('p', 'n2', 'Bound', 'b', 5),
      what: 'bound to n1 by a at 1, then bound again to n2 by b at 5',
    },
    {
      name: 'the writer that bound it trying again, although the API refused',
      second: attempt('p', 'n1', 'AlreadyAssigned', 'a', 3),
      what: 'a bound it to n1 at 1, then tried to bind it to n1 at 3 (the API answered AlreadyAssigned)',
    },
    {
      name: 'the writer that bound it trying it elsewhere',
      second: attempt('p', 'n2', 'AlreadyAssigned', 'a', 3),
      what: 'a bound it to n1 at 1, then tried to bind it to n2 at 3 (the API answered AlreadyAssigned)',
    },
  ])('objects to $name', ({ second, what }) => {
    const history = { attempts: [attempt('p', 'n1'), attempt('q', 'n3'), second] };
    expect(noPodBoundTwice(history)).toEqual([{ invariant: 'noPodBoundTwice', where: 'default/p', what }]);
  });

  it('objects to a writer trying again after the API told it the pod is already assigned', () => {
    const history = { attempts: [attempt('p', 'n1', 'Bound', 'a', 1), attempt('p', 'n2', 'AlreadyAssigned', 'b', 2), attempt('p', 'n3', 'AlreadyAssigned', 'b', 7)] };
    expect(noPodBoundTwice(history)).toEqual([
      { invariant: 'noPodBoundTwice', where: 'default/p', what: 'b was told it is already assigned, then tried to bind it to n3 at 7 (the API answered AlreadyAssigned)' },
    ]);
  });

  it('accepts a try again after a refusal that left the pod unbound', () => {
    const history = { attempts: [attempt('p', 'n1', 'BeingDeleted', 'a', 1), attempt('p', 'n1', 'NotFound', 'a', 2)] };
    expect(noPodBoundTwice(history)).toEqual([]);
  });

  it('accepts a pod deleted and created again under the same name (another uid) being bound again', () => {
    const history = { attempts: [attempt('p', 'n1', 'Bound', 'a', 1, 'uid-1'), attempt('p', 'n2', 'Bound', 'a', 9, 'uid-2')] };
    expect(noPodBoundTwice(history)).toEqual([]);
  });

  it('objects to a pod whose node changed after its binding', () => {
    const history = { attempts: [attempt('p', 'n1')] };
    expect(noPodBoundTwice(history, [pod('p').node('n1').build()])).toEqual([]);
    expect(noPodBoundTwice(history, [pod('p').node('n2').build()])).toEqual([
      { invariant: 'noPodBoundTwice', where: 'default/p', what: 'bound to n1 by a, but now on "n2"' },
    ]);
  });
});

describe('noNodeOvercommitted', () => {
  const n1 = node('n1').cpu('2').memory('1Gi').pods(3).build();
  const n2 = node('n2').cpu('2').memory('1Gi').pods(3).build();

  it('accepts nodes filled exactly to allocatable', () => {
    const pods = [pod('a').request({ cpu: '1500m', memory: '512Mi' }).node('n1').build(), pod('b').request({ cpu: '500m', memory: '512Mi' }).node('n1').build()];
    expect(noNodeOvercommitted([n1, n2], pods)).toEqual([]);
  });

  it.each([
    {
      name: 'cpu',
      pods: [pod('a').request({ cpu: '1500m' }).node('n1').build(), pod('b').request({ cpu: '1' }).node('n1').build()],
      what: 'cpu: 2500m requested of 2000m allocatable (pods a, b)',
    },
    {
      name: 'memory',
      pods: [pod('a').request({ memory: '768Mi' }).node('n1').build(), pod('b').request({ memory: '512Mi' }).node('n1').build()],
      what: `memory: ${1280 * 2 ** 20} requested of ${2 ** 30} allocatable (pods a, b)`,
    },
    {
      name: 'pods',
      pods: ['a', 'b', 'c', 'd'].map((name) => pod(name).node('n1').build()),
      what: 'pods: 4 requested of 3 allocatable (pods a, b, c, d)',
    },
    {
      name: 'cpu, counting the peak of init containers',
      pods: [pod('a').request({ cpu: '1' }).node('n1').build(), pod('b').request({ cpu: '100m' }).initContainer('setup', { cpu: '1500m' }).node('n1').build()],
      what: 'cpu: 2500m requested of 2000m allocatable (pods a, b)',
    },
    {
      name: 'cpu, counting sidecars and overhead',
      pods: [
        pod('a').request({ cpu: '1' }).node('n1').build(),
        pod('b').request({ cpu: '500m' }).initContainer('proxy', { cpu: '400m' }, 'Always').spec({ overhead: { cpu: '200m' } }).node('n1').build(),
      ],
      what: 'cpu: 2100m requested of 2000m allocatable (pods a, b)',
    },
  ])('objects to a node over its allocatable $name', ({ pods, what }) => {
    expect(noNodeOvercommitted([n1, n2], pods)).toEqual([{ invariant: 'noNodeOvercommitted', where: 'n1', what }]);
  });

  it('counts only pods bound to the node and not terminated', () => {
    const pods = [
      pod('running').request({ cpu: '2' }).node('n1').build(),
      withPhase(pod('done').request({ cpu: '2' }).node('n1').build(), 'Succeeded'),
      withPhase(pod('failed').request({ cpu: '2' }).node('n1').build(), 'Failed'),
      pod('pending').request({ cpu: '2' }).build(),
      pod('elsewhere').request({ cpu: '2' }).node('n2').build(),
    ];
    expect(noNodeOvercommitted([n1, n2], pods)).toEqual([]);
  });
});

describe('noPodOnForbiddenNode', () => {
  const tainted = node('tainted').taint('dedicated', 'infra', 'NoSchedule').build();
  const draining = node('draining').taint('maintenance', undefined, 'NoExecute').build();
  const cordoned = node('cordoned').unschedulable().build();
  const ssd = node('ssd').label('disk', 'ssd').build();
  const nodes = [tainted, draining, cordoned, ssd];
  const infra = { key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' } as const;

  it.each([
    { name: 'a tolerated taint', p: pod('p').toleration(infra).node('tainted').build() },
    { name: 'a taint tolerated by a key-less Exists', p: pod('p').toleration({ operator: 'Exists' }).node('draining').build() },
    { name: 'a cordoned node, tolerating the unschedulable taint', p: pod('p').toleration({ key: 'node.kubernetes.io/unschedulable', operator: 'Exists' }).node('cordoned').build() },
    { name: 'a node with the selected labels', p: pod('p').nodeSelector({ disk: 'ssd' }).node('ssd').build() },
    { name: 'a tainted node once terminated', p: withPhase(pod('p').node('tainted').build(), 'Succeeded') },
    { name: 'no node (pending)', p: pod('p').nodeSelector({ disk: 'hdd' }).build() },
  ])('accepts a pod on $name', ({ p }) => {
    expect(noPodOnForbiddenNode(nodes, [p])).toEqual([]);
  });

  it.each([
    { name: 'an untolerated NoSchedule taint', p: pod('p').node('tainted').build(), what: 'on tainted: untolerated taint dedicated=infra:NoSchedule' },
    {
      name: 'a taint tolerated for another value',
      p: pod('p').toleration({ ...infra, value: 'web' }).node('tainted').build(),
      what: 'on tainted: untolerated taint dedicated=infra:NoSchedule',
    },
    {
      name: 'a taint tolerated for another effect',
      p: pod('p').toleration({ ...infra, effect: 'NoExecute' }).node('tainted').build(),
      what: 'on tainted: untolerated taint dedicated=infra:NoSchedule',
    },
    { name: 'an untolerated NoExecute taint', p: pod('p').node('draining').build(), what: 'on draining: untolerated taint maintenance=:NoExecute' },
    { name: 'an unschedulable node', p: pod('p').node('cordoned').build(), what: 'on cordoned: node is unschedulable' },
    { name: 'a node without the selected label', p: pod('p').nodeSelector({ disk: 'ssd' }).node('cordoned').toleration({ operator: 'Exists' }).build(), what: 'on cordoned: nodeSelector disk=ssd not matched' },
    { name: 'a node that does not exist', p: pod('p').node('gone').build(), what: 'on gone: no such node' },
  ])('objects to a pod on $name', ({ p, what }) => {
    expect(noPodOnForbiddenNode(nodes, [p])).toEqual([{ invariant: 'noPodOnForbiddenNode', where: 'default/p', what }]);
  });

  it('refuses to judge a pod by a rule it does not model', () => {
    const p = pod('p')
      .node('ssd')
      .spec({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'Exists' }] }] } } } })
      .build();
    expect(() => noPodOnForbiddenNode(nodes, [p])).toThrow('noPodOnForbiddenNode cannot judge default/p: placement_rules.ts does not model required node affinity');
  });
});

describe('noPodsClashing', () => {
  const a1 = node('a1').zone('a').build();
  const a2 = node('a2').zone('a').build();
  const b1 = node('b1').zone('b').build();
  const nodes = [a1, a2, b1];

  it.each([
    { name: 'replicas with host anti-affinity on different hosts', pods: [antiAffine(pod('w1'), 'web').node('a1').build(), antiAffine(pod('w2'), 'web').node('a2').build()] },
    { name: 'pods the anti-affinity does not select', pods: [antiAffine(pod('w1'), 'web').node('a1').build(), pod('db').label('app', 'db').node('a1').build()] },
    {
      name: 'a selected pod in another namespace',
      pods: [antiAffine(pod('w1'), 'web').node('a1').build(), pod('w2', 'other').label('app', 'web').node('a1').build()],
    },
    { name: 'zone anti-affinity across zones', pods: [antiAffine(pod('w1'), 'web', ZONE_LABEL).node('a1').build(), antiAffine(pod('w2'), 'web', ZONE_LABEL).node('b1').build()] },
    { name: 'one host port on different nodes', pods: [pod('h1').hostPort(8080).node('a1').build(), pod('h2').hostPort(8080).node('a2').build()] },
    { name: 'one host port over different protocols', pods: [pod('h1').hostPort(53, 'UDP').node('a1').build(), pod('h2').hostPort(53, 'TCP').node('a1').build()] },
    { name: 'one host port on different host addresses', pods: [pod('h1').hostPort(80, 'TCP', '10.0.0.1').node('a1').build(), pod('h2').hostPort(80, 'TCP', '10.0.0.2').node('a1').build()] },
    { name: 'a clash with a pod that terminated', pods: [antiAffine(pod('w1'), 'web').node('a1').build(), withPhase(antiAffine(pod('w2'), 'web').node('a1').build(), 'Failed')] },
  ])('accepts $name', ({ pods }) => {
    expect(noPodsClashing(nodes, pods)).toEqual([]);
  });

  it.each([
    {
      name: 'two replicas with host anti-affinity on one host',
      pods: [antiAffine(pod('w1'), 'web').node('a1').build(), antiAffine(pod('w2'), 'web').node('a1').build()],
      what: 'on a1, with default/w2 on a1: anti-affinity of default/w1 with default/w2 in kubernetes.io/hostname=a1',
    },
    {
      name: 'a pod placed next to a pod whose anti-affinity selects it (the rule is symmetric)',
      pods: [pod('plain').label('app', 'web').node('a1').build(), antiAffine(pod('w1'), 'web').node('a1').build()],
      what: 'on a1, with default/w1 on a1: anti-affinity of default/w1 with default/plain in kubernetes.io/hostname=a1',
    },
    {
      name: 'zone anti-affinity within one zone',
      pods: [antiAffine(pod('w1'), 'web', ZONE_LABEL).node('a1').build(), antiAffine(pod('w2'), 'web', ZONE_LABEL).node('a2').build()],
      what: 'on a1, with default/w2 on a2: anti-affinity of default/w1 with default/w2 in topology.kubernetes.io/zone=a',
    },
    {
      name: 'one host port taken twice on a node',
      pods: [pod('h1').hostPort(8080).node('a1').build(), pod('h2').hostPort(8080, 'TCP', '10.0.0.1').node('a1').build()],
      what: 'on a1, with default/h2 on a1: host port TCP/8080 taken by default/h2',
    },
    {
      name: 'a clash with a terminating pod (it still holds its place)',
      pods: [pod('h1').hostPort(8080).node('a1').build(), terminating(pod('h2').hostPort(8080).node('a1').build())],
      what: 'on a1, with default/h2 on a1: host port TCP/8080 taken by default/h2',
    },
  ])('objects to $name, once per pair', ({ pods, what }) => {
    const where = `default/${pods[0]!.metadata!.name}`;
    expect(noPodsClashing(nodes, pods)).toEqual([{ invariant: 'noPodsClashing', where, what }]);
  });
});

describe('noSchedulablePodLeftPending', () => {
  const small = node('small').cpu('1').memory('1Gi').pods(3).build();
  const tainted = node('tainted').cpu('8').taint('dedicated', 'infra', 'NoSchedule').build();

  it('objects to a pending pod that fits on some node', () => {
    const pods = [pod('p').request({ cpu: '500m' }).build()];
    expect(noSchedulablePodLeftPending([small, tainted], pods)).toEqual([
      { invariant: 'noSchedulablePodLeftPending', where: 'default/p', what: 'still pending, but fits on small' },
    ]);
  });

  it('names every node it fits on', () => {
    const pods = [pod('p').toleration({ operator: 'Exists' }).build()];
    expect(noSchedulablePodLeftPending([small, tainted], pods)).toEqual([
      { invariant: 'noSchedulablePodLeftPending', where: 'default/p', what: 'still pending, but fits on small, tainted' },
    ]);
  });

  it('objects when room was freed by a pod that terminated', () => {
    const pods = [withPhase(pod('old').request({ cpu: '1' }).node('small').build(), 'Succeeded'), pod('p').request({ cpu: '1' }).build()];
    expect(noSchedulablePodLeftPending([small], pods)).toHaveLength(1);
  });

  it.each([
    { name: 'too big for every untainted node', pods: [pod('p').request({ cpu: '2' }).build()] },
    { name: 'asking more memory than is left', pods: [pod('big').request({ memory: '768Mi' }).node('small').build(), pod('p').request({ memory: '512Mi' }).build()] },
    { name: 'the only room taken by a bound pod', pods: [pod('big').request({ cpu: '1' }).node('small').build(), pod('p').request({ cpu: '500m' }).build()] },
    { name: 'the only room taken by a terminating pod', pods: [terminating(pod('big').request({ cpu: '1' }).node('small').build()), pod('p').request({ cpu: '500m' }).build()] },
    { name: 'no pod slot left', pods: [...['a', 'b', 'c'].map((name) => pod(name).node('small').build()), pod('p').build()] },
    { name: 'its node selector matching no node', pods: [pod('p').nodeSelector({ disk: 'ssd' }).build()] },
    { name: 'its anti-affinity ruling out the only untainted node', pods: [pod('web-1').label('app', 'web').node('small').build(), antiAffine(pod('p'), 'web').build()] },
    { name: "a bound pod's anti-affinity ruling it out", pods: [antiAffine(pod('web-1'), 'web').node('small').build(), pod('p').label('app', 'web').build()] },
    { name: 'its host port taken', pods: [pod('h').hostPort(8080).node('small').build(), pod('p').hostPort(8080).build()] },
    { name: 'of another scheduler', pods: [pod('p').spec({ schedulerName: 'other' }).build()] },
    { name: 'terminating', pods: [terminating(pod('p').build())] },
  ])('accepts a pending pod $name', ({ pods }) => {
    expect(noSchedulablePodLeftPending([small, tainted], pods)).toEqual([]);
  });

  it('accepts a pending pod when the only node that would take it is cordoned', () => {
    expect(noSchedulablePodLeftPending([node('cordoned').unschedulable().build()], [pod('p').build()])).toEqual([]);
  });

  it('checks the pods of the schedulers it is told of', () => {
    const pods = [pod('p').spec({ schedulerName: 'other' }).build()];
    expect(noSchedulablePodLeftPending([small], pods, { schedulerNames: ['other'] })).toHaveLength(1);
  });

  it('refuses to judge a pod by a rule it does not model, rather than guess', () => {
    const p = pod('p').spec({ topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE_LABEL, whenUnsatisfiable: 'DoNotSchedule' }] }).build();
    expect(() => noSchedulablePodLeftPending([small], [p])).toThrow('noSchedulablePodLeftPending cannot judge default/p: placement_rules.ts does not model hard topology spread');
  });
});

describe('the checkers are independent of the scheduler', () => {
  it.each(['invariants.ts', 'placement_rules.ts'])('%s imports no scheduler code', (file) => {
    const source = readFileSync(new URL(file, import.meta.url), 'utf8');
    const imports = [...source.matchAll(/^import (type )?[^;]*? from '([^']+)';$/gms)].map(([, type, from]) => `${type ?? ''}${from}`);
    expect(imports.length).toBeGreaterThan(0);
    // Packages of pure data, its sibling rule book, and types of the simulated API's history.
    expect(imports.filter((from) => !/^((type )?(@k8ts\/apimachinery|kubernetes-types\/.*|\.\/placement_rules\.js)|type \.\/sim_cluster\.js)$/.test(from))).toEqual([]);
  });
});
