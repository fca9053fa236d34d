import { FakeClock } from '@k8ts/base';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import type { ClusterEvent } from '../framework/interfaces.js';
import { podInfoFor } from '../framework/node_info.js';
import { pod } from '../testing/builders.js';
import type { QueuedPodInfo } from './queued_pod_info.js';
import { SchedulingQueue, type SchedulingQueueOptions } from './scheduling_queue.js';

const NODE_ADD: ClusterEvent = { resource: 'Node', action: 'Add' };
const NODE_UPDATE: ClusterEvent = { resource: 'Node', action: 'Update' };
const POD_DELETE: ClusterEvent = { resource: 'Pod', action: 'Delete' };

function setup(options: SchedulingQueueOptions = {}): { clock: FakeClock; queue: SchedulingQueue } {
  const clock = new FakeClock(0);
  const pluginEvents = new Map<string, ClusterEvent[]>([
    ['NodeResourcesFit', [NODE_ADD, POD_DELETE]],
    ['TaintToleration', [NODE_ADD, NODE_UPDATE]],
    ['NodeName', []],
  ]);
  return { clock, queue: new SchedulingQueue({ clock, pluginEvents, ...options }) };
}

function popNow(queue: SchedulingQueue): QueuedPodInfo {
  const info = queue.tryPop();
  if (info === undefined) throw new Error('expected an active pod');
  return info;
}

function names(queue: SchedulingQueue): string[] {
  const out: string[] = [];
  for (let info = queue.tryPop(); info !== undefined; info = queue.tryPop()) out.push(info.pod.metadata!.name!);
  return out;
}

/** Pops the pod and puts it back as rejected by `plugins`; returns where it went. */
function reject(queue: SchedulingQueue, p: Pod, plugins: string[]): string {
  queue.add(p);
  const info = popNow(queue);
  return queue.addUnschedulableIfNotPresent(info, new Set(plugins), queue.schedulingCycle());
}

describe('SchedulingQueue activeQ order', () => {
  it('pops higher priority first, then the earlier added', () => {
    const { clock, queue } = setup();
    queue.add(pod('low').priority(1).build());
    clock.advance(10);
    queue.add(pod('high-late').priority(100).build());
    queue.add(pod('mid').priority(50).build());
    clock.advance(10);
    queue.add(pod('low-late').priority(1).build());
    queue.add(pod('high-early-none').build());
    expect(names(queue)).toEqual(['high-late', 'mid', 'low', 'low-late', 'high-early-none']);
  });

  it('keeps arrival order among pods of equal priority added at the same time', () => {
    const { queue } = setup();
    for (const name of ['a', 'b', 'c', 'd']) queue.add(pod(name).build());
    expect(names(queue)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('re-sorts a pod whose priority changed in an update', () => {
    const { queue } = setup();
    const a = pod('a').priority(1).build();
    queue.add(a);
    queue.add(pod('b').priority(5).build());
    queue.update(a, pod('a').priority(10).build());
    expect(names(queue)).toEqual(['a', 'b']);
  });

  it('forgets a deleted pod', () => {
    const { queue } = setup();
    const a = pod('a').build();
    queue.add(a);
    queue.add(pod('b').build());
    queue.delete(a);
    expect(names(queue)).toEqual(['b']);
  });

  it('counts attempts and keeps the first attempt time across requeues', () => {
    const { clock, queue } = setup();
    clock.advance(5);
    queue.add(pod('a').build());
    const first = popNow(queue);
    expect(first.attempts).toBe(1);
    expect(first.initialAttemptTimestamp).toBe(5);
    queue.requeueAfterError(first, queue.schedulingCycle());
    clock.advance(1_000);
    queue.flushBackoffQCompleted();
    const second = popNow(queue);
    expect(second.attempts).toBe(2);
    expect(second.initialAttemptTimestamp).toBe(5);
    expect(second.timestamp).toBe(5);
  });
});

describe('SchedulingQueue backoff', () => {
  it('holds a pod that failed with an error for its backoff, doubling per attempt', () => {
    const { clock, queue } = setup();
    queue.add(pod('a').build());
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const info = popNow(queue);
      expect(queue.requeueAfterError(info, queue.schedulingCycle())).toBe('backoffQ');
      const started = clock.now();
      while (queue.flushBackoffQCompleted() === 0) clock.advance(100);
      waits.push(clock.now() - started);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 10_000]);
  });

  it('honours custom backoff bounds', () => {
    const { clock, queue } = setup({ podInitialBackoffMs: 200, podMaxBackoffMs: 300 });
    queue.add(pod('a').build());
    queue.requeueAfterError(popNow(queue), queue.schedulingCycle());
    clock.advance(199);
    expect(queue.flushBackoffQCompleted()).toBe(0);
    clock.advance(1);
    expect(queue.flushBackoffQCompleted()).toBe(1);
    const second = popNow(queue);
    queue.requeueAfterError(second, queue.schedulingCycle());
    expect(queue.backoffExpiry(second)).toBe(clock.now() + 300); // 2 × 200 capped at 300
  });

  it('moves pods out of backoff from run()’s 1 s timer, in expiry order', () => {
    const { clock, queue } = setup();
    queue.run();
    queue.add(pod('first').build());
    queue.add(pod('second').build());
    const first = popNow(queue);
    const second = popNow(queue);
    queue.requeueAfterError(second, queue.schedulingCycle());
    clock.advance(300);
    queue.requeueAfterError(first, queue.schedulingCycle());
    clock.advance(999);
    expect(queue.pendingPods().activeQ).toBe(1);
    expect(queue.whereIs(first.pod)).toBe('backoffQ');
    clock.advance(1_000);
    expect(names(queue)).toEqual(['second', 'first']);
    queue.close();
    expect(clock.pending()).toBe(0);
  });
});

describe('SchedulingQueue unschedulable pods and cluster events', () => {
  it('moves a pod only on an event one of its rejecting plugins registered', () => {
    const { clock, queue } = setup();
    const fit = pod('fit').build();
    const taint = pod('taint').build();
    const nodeName = pod('node-name').build();
    expect(reject(queue, fit, ['NodeResourcesFit'])).toBe('unschedulable');
    expect(reject(queue, taint, ['TaintToleration'])).toBe('unschedulable');
    expect(reject(queue, nodeName, ['NodeName'])).toBe('unschedulable');
    clock.advance(2_000); // backoffs over

    expect(queue.moveAllToActiveOrBackoffQueue(NODE_UPDATE)).toBe(1);
    expect(queue.whereIs(taint)).toBe('activeQ');
    expect(queue.whereIs(fit)).toBe('unschedulable');

    expect(queue.moveAllToActiveOrBackoffQueue(POD_DELETE)).toBe(1);
    expect(queue.whereIs(fit)).toBe('activeQ');
    // NodeName registered no event: only the leftover flush brings it back.
    expect(queue.moveAllToActiveOrBackoffQueue(NODE_ADD)).toBe(0);
    expect(queue.whereIs(nodeName)).toBe('unschedulable');
  });

  it('treats a rejecting plugin that registered nothing known as interested in every event', () => {
    const { clock, queue } = setup();
    const p = pod('a').build();
    reject(queue, p, ['SomeOutOfTreePlugin']);
    clock.advance(2_000);
    queue.moveAllToActiveOrBackoffQueue(POD_DELETE);
    expect(queue.whereIs(p)).toBe('activeQ');
  });

  it('moves a pod still backing off to backoffQ, one past it to activeQ', () => {
    const { clock, queue } = setup();
    const early = pod('early').build();
    reject(queue, early, ['NodeResourcesFit']);
    clock.advance(1_500);
    const late = pod('late').build();
    reject(queue, late, ['NodeResourcesFit']);
    queue.moveAllToActiveOrBackoffQueue(NODE_ADD);
    expect(queue.whereIs(early)).toBe('activeQ');
    expect(queue.whereIs(late)).toBe('backoffQ');
  });

  it('lets a preCheck narrow which pods an event moves', () => {
    const { clock, queue } = setup();
    const a = pod('a').label('app', 'x').build();
    const b = pod('b').build();
    reject(queue, a, ['NodeResourcesFit']);
    reject(queue, b, ['NodeResourcesFit']);
    clock.advance(2_000);
    expect(queue.moveAllToActiveOrBackoffQueue(NODE_ADD, (candidate) => candidate.metadata?.labels?.['app'] === 'x')).toBe(1);
    expect(queue.whereIs(a)).toBe('activeQ');
    expect(queue.whereIs(b)).toBe('unschedulable');
  });

  it('flushes pods left unschedulable longer than the limit (5 min by default)', () => {
    const { clock, queue } = setup();
    const p = pod('a').build();
    reject(queue, p, ['NodeName']);
    clock.advance(5 * 60_000);
    expect(queue.flushUnschedulablePodsLeftover()).toBe(0);
    clock.advance(1);
    expect(queue.flushUnschedulablePodsLeftover()).toBe(1);
    expect(queue.whereIs(p)).toBe('activeQ');
  });

  it('flushes leftovers from run()’s 30 s timer', () => {
    const { clock, queue } = setup({ podMaxInUnschedulablePodsDurationMs: 60_000 });
    queue.run();
    const p = pod('a').build();
    reject(queue, p, ['NodeName']);
    clock.advance(60_000);
    expect(queue.whereIs(p)).toBe('unschedulable');
    clock.advance(30_000);
    expect(queue.whereIs(p)).toBe('activeQ');
    queue.close();
  });

  it('moves an unschedulable pod whose spec changed, not one whose status changed', () => {
    const { clock, queue } = setup();
    const p = pod('a').build();
    reject(queue, p, ['NodeName']);
    clock.advance(2_000);
    const statusOnly: Pod = { ...p, metadata: { ...p.metadata, resourceVersion: '7' }, status: { phase: 'Pending', conditions: [] } };
    queue.update(p, statusOnly);
    expect(queue.whereIs(p)).toBe('unschedulable');
    const relabelled = pod('a').label('fixed', 'yes').build();
    queue.update(statusOnly, relabelled);
    expect(queue.whereIs(p)).toBe('activeQ');
    expect(popNow(queue).pod.metadata?.labels?.['fixed']).toBe('yes');
  });

  it('refuses to requeue a pod already queued again', () => {
    const { queue } = setup();
    const p = pod('a').build();
    queue.add(p);
    const info = popNow(queue);
    queue.add(p);
    expect(queue.addUnschedulableIfNotPresent(info, new Set(['NodeName']), queue.schedulingCycle())).toBe('alreadyQueued');
  });
});

describe('SchedulingQueue move requests during a scheduling cycle', () => {
  it.each([
    { name: 'no event: waits in unschedulable', eventBeforePop: false, eventDuringCycle: false, expected: 'unschedulable' },
    { name: 'event before the pop: already seen, unschedulable', eventBeforePop: true, eventDuringCycle: false, expected: 'unschedulable' },
    { name: 'event while in flight: retries after backoff', eventBeforePop: false, eventDuringCycle: true, expected: 'backoffQ' },
  ])('$name', ({ eventBeforePop, eventDuringCycle, expected }) => {
    const { queue } = setup();
    queue.add(pod('a').build());
    if (eventBeforePop) queue.moveAllToActiveOrBackoffQueue(NODE_ADD);
    const info = popNow(queue);
    const cycle = queue.schedulingCycle();
    // An event no rejector of this pod registered still counts: the pod was not in unschedulable yet.
    if (eventDuringCycle) queue.moveAllToActiveOrBackoffQueue(NODE_UPDATE);
    expect(queue.addUnschedulableIfNotPresent(info, new Set(['NodeResourcesFit']), cycle)).toBe(expected);
  });

  it('sends a pod updated while in flight to backoffQ with the new version', () => {
    const { queue } = setup();
    const p = pod('a').build();
    queue.add(p);
    const info = popNow(queue);
    const updated = pod('a').label('v', '2').build();
    queue.update(p, updated);
    expect(queue.whereIs(p)).toBe('inFlight');
    expect(queue.addUnschedulableIfNotPresent(info, new Set(['NodeResourcesFit']), queue.schedulingCycle())).toBe('backoffQ');
    expect(info.pod.metadata?.labels?.['v']).toBe('2');
  });

  it('drops a pod deleted while in flight instead of requeueing it', () => {
    const { queue } = setup();
    const p = pod('a').build();
    queue.add(p);
    const info = popNow(queue);
    queue.delete(p);
    expect(queue.addUnschedulableIfNotPresent(info, new Set(['NodeResourcesFit']), queue.schedulingCycle())).toBe('deleted');
    expect(queue.whereIs(p)).toBeUndefined();
  });

  it('done() ends a popped pod’s in-flight record', () => {
    const { queue } = setup();
    const p = pod('a').build();
    queue.add(p);
    popNow(queue);
    expect(queue.pendingPods().inFlight).toBe(1);
    queue.done('default/a');
    expect(queue.pendingPods().inFlight).toBe(0);
    expect(queue.whereIs(p)).toBeUndefined();
  });
});

describe('SchedulingQueue pop', () => {
  it('waits until a pod is active', async () => {
    const { queue } = setup();
    let popped: QueuedPodInfo | undefined;
    const pending = queue.pop().then((info) => (popped = info));
    await Promise.resolve();
    expect(popped).toBeUndefined();
    queue.add(pod('a').build());
    await pending;
    expect(popped?.pod.metadata?.name).toBe('a');
    expect(queue.schedulingCycle()).toBe(1);
  });

  it('serves several waiters one pod each, in order', async () => {
    const { queue } = setup();
    const first = queue.pop();
    const second = queue.pop();
    queue.add(pod('low').priority(1).build());
    queue.add(pod('high').priority(9).build());
    expect((await first)?.pod.metadata?.name).toBe('low');
    expect((await second)?.pod.metadata?.name).toBe('high');
  });

  it('wakes a waiter when backoff completes', async () => {
    const { clock, queue } = setup();
    queue.run();
    queue.add(pod('a').build());
    queue.requeueAfterError(await queue.pop().then((info) => info!), queue.schedulingCycle());
    const next = queue.pop();
    clock.advance(1_000);
    expect((await next)?.attempts).toBe(2);
    queue.close();
  });

  it('resolves undefined for waiting and later pops once closed', async () => {
    const { queue } = setup();
    const waiting = queue.pop();
    queue.close();
    expect(await waiting).toBeUndefined();
    queue.add(pod('a').build());
    expect(await queue.pop()).toBeUndefined();
  });
});

describe('SchedulingQueue nominated pods', () => {
  const nominated = (name: string, nodeName: string): Pod => {
    const p = pod(name).build();
    return { ...p, status: { ...p.status, nominatedNodeName: nodeName } };
  };
  const nominees = (queue: SchedulingQueue, nodeName: string): string[] =>
    queue.nominatedPodsForNode(nodeName).map((info) => info.pod.metadata!.name!);

  it('tracks status.nominatedNodeName through add, update and delete', () => {
    const { queue } = setup();
    const a = nominated('a', 'n1');
    queue.add(a);
    queue.add(nominated('b', 'n1'));
    queue.add(pod('c').build());
    expect(nominees(queue, 'n1')).toEqual(['a', 'b']);
    const moved = nominated('a', 'n2');
    queue.update(a, moved);
    expect(nominees(queue, 'n1')).toEqual(['b']);
    expect(nominees(queue, 'n2')).toEqual(['a']);
    queue.delete(moved);
    expect(nominees(queue, 'n2')).toEqual([]);
  });

  it('keeps a nomination made in memory across an update that says nothing of it', () => {
    const { queue } = setup();
    const p = pod('a').build();
    queue.add(p);
    const info = popNow(queue);
    queue.addUnschedulableIfNotPresent(info, new Set(['NodeResourcesFit']), queue.schedulingCycle());
    queue.addNominatedPod(info.podInfo, 'n3');
    queue.update(p, pod('a').label('x', 'y').build());
    expect(nominees(queue, 'n3')).toEqual(['a']);
    expect(queue.nominatedNodeFor(p)).toBe('n3');
    queue.deleteNominatedPodIfExists(p);
    expect(nominees(queue, 'n3')).toEqual([]);
  });

  it('does not nominate a pod that is already bound', () => {
    const { queue } = setup();
    queue.addNominatedPod(podInfoFor(pod('a').node('n1').build()), 'n1');
    expect(nominees(queue, 'n1')).toEqual([]);
  });
});

describe('SchedulingQueue pendingPods', () => {
  it('lists pods with counts per queue', () => {
    const { queue } = setup();
    reject(queue, pod('u').build(), ['NodeName']);
    queue.add(pod('b').build());
    queue.requeueAfterError(popNow(queue), queue.schedulingCycle());
    queue.add(pod('a1').build());
    queue.add(pod('a2').build());
    const pending = queue.pendingPods();
    expect(pending).toMatchObject({ activeQ: 2, backoffQ: 1, unschedulable: 1, inFlight: 0 });
    expect(pending.summary).toBe('activeQ:2; backoffQ:1; unschedulablePods:1');
    expect(pending.pods.map((p) => p.metadata?.name).sort()).toEqual(['a1', 'a2', 'b', 'u']);
    expect(queue.pendingPods(3).pods).toHaveLength(3);
  });
});
