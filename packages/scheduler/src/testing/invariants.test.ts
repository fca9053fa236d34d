import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { HOSTNAME_LABEL, node, pod } from './builders.js';
import { noNodeOvercommitted, noPodBoundTwice, noSchedulablePodLeftPending } from './invariants.js';
import type { BindingRecord } from './sim_cluster.js';

function bound(name: string, node: string, writer = 'a', time = 1, uid = `uid-pod-default-${name}`): BindingRecord {
  return { pod: `default/${name}`, uid, node, writer, time };
}

function withPhase(p: Pod, phase: string): Pod {
  return { ...p, status: { ...p.status, phase } };
}

describe('noPodBoundTwice', () => {
  it('accepts a history where every pod was bound once', () => {
    const history = { bindings: [bound('p', 'n1'), bound('q', 'n1'), bound('r', 'n2')] };
    expect(noPodBoundTwice(history)).toEqual([]);
  });

  it.each([
    { name: 'to another node by another writer', second: bound('p', 'n2', 'b', 5), what: 'bound to n1 by a at 1, then again to n2 by b at 5' },
    { name: 'to the same node', second: bound('p', 'n1', 'a', 3), what: 'bound to n1 by a at 1, then again to n1 by a at 3' },
  ])('objects to a pod bound a second time $name', ({ second, what }) => {
    const history = { bindings: [bound('p', 'n1'), bound('q', 'n3'), second] };
    expect(noPodBoundTwice(history)).toEqual([{ invariant: 'noPodBoundTwice', where: 'default/p', what }]);
  });

  it('accepts a pod deleted and created again under the same name (another uid) being bound again', () => {
    const history = { bindings: [bound('p', 'n1', 'a', 1, 'uid-1'), bound('p', 'n2', 'a', 9, 'uid-2')] };
    expect(noPodBoundTwice(history)).toEqual([]);
  });

  it('objects to a pod whose node changed after its binding', () => {
    const history = { bindings: [bound('p', 'n1')] };
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

describe('noSchedulablePodLeftPending', () => {
  const small = node('small').cpu('1').build();
  const tainted = node('tainted').cpu('8').taint('dedicated', 'infra', 'NoSchedule').build();

  it('objects to a pending pod that fits on some node', () => {
    const pods = [pod('p').request({ cpu: '500m' }).build()];
    expect(noSchedulablePodLeftPending([small, tainted], pods)).toEqual([
      { invariant: 'noSchedulablePodLeftPending', where: 'default/p', what: 'still pending, but fits on small' },
    ]);
  });

  it('objects when room was freed by a pod that terminated', () => {
    const pods = [withPhase(pod('old').request({ cpu: '1' }).node('small').build(), 'Succeeded'), pod('p').request({ cpu: '1' }).build()];
    expect(noSchedulablePodLeftPending([small], pods)).toHaveLength(1);
  });

  it.each([
    { name: 'too big for every untainted node', pods: [pod('p').request({ cpu: '2' }).build()] },
    { name: 'the only room taken by a bound pod', pods: [pod('big').request({ cpu: '1' }).node('small').build(), pod('p').request({ cpu: '500m' }).build()] },
    { name: 'its node selector matching no node', pods: [pod('p').nodeSelector({ disk: 'ssd' }).build()] },
    {
      name: 'its anti-affinity ruling out the only untainted node',
      pods: [
        pod('web-1').label('app', 'web').node('small').build(),
        pod('p')
          .label('app', 'web')
          .spec({ affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: HOSTNAME_LABEL }] } } })
          .build(),
      ],
    },
    { name: 'of another scheduler', pods: [pod('p').spec({ schedulerName: 'other' }).build()] },
    { name: 'terminating', pods: [{ ...pod('p').build(), metadata: { ...pod('p').build().metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }] },
  ])('accepts a pending pod $name', ({ pods }) => {
    expect(noSchedulablePodLeftPending([small, tainted], pods)).toEqual([]);
  });

  it('checks the pods of the schedulers it is told of', () => {
    const pods = [pod('p').spec({ schedulerName: 'other' }).build()];
    expect(noSchedulablePodLeftPending([small], pods, { schedulerNames: ['other'] })).toHaveLength(1);
  });
});
