import { FakeClock, seededRandom } from '@k8ts/base';
import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { node, pod } from '../testing/builders.js';
import { noNodeOvercommitted, noPodBoundTwice } from '../testing/invariants.js';
import { quiet, settle, SimCluster, type Subscription } from '../testing/sim_cluster.js';
import { parseSchedulerConfiguration, type SchedulerConfiguration } from './configuration.js';
import { Scheduler, type SchedulerLogger } from './scheduler.js';

interface Harness {
  sim: SimCluster;
  scheduler: Scheduler;
  clock: FakeClock;
  subscription: Subscription;
  errors: string[];
  start(): void;
  /** Holds this scheduler's bindings at the API until the returned release (or the test's end). */
  holdBindings(): () => void;
  /** Until nothing moves, without moving time. */
  quiet(): Promise<void>;
  /** Until nothing moves, moving time while pods back off. */
  settle(): Promise<void>;
}

const stops: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** One scheduler ("default-scheduler" writer) watching a simulated cluster; time moves only when told. */
function harness(options: { seed?: number; configuration?: SchedulerConfiguration } = {}): Harness {
  const seed = options.seed ?? 7;
  const clock = new FakeClock(1_000_000);
  const sim = new SimCluster({ seed, clock });
  const errors: string[] = [];
  const logger: SchedulerLogger = { debug() {}, info() {}, warn() {}, error: (_fields, message) => errors.push(message) };
  const scheduler = new Scheduler({
    configuration: options.configuration ?? parseSchedulerConfiguration(),
    writer: sim.writer('default-scheduler'),
    clock,
    random: seededRandom(seed),
    logger,
  });
  const controller = new AbortController();
  let running: Promise<void> | undefined;
  const releases: Array<() => void> = [];
  const h: Harness = {
    sim,
    scheduler,
    clock,
    subscription: sim.subscribe(scheduler, 'default-scheduler'),
    errors,
    start: () => {
      running = scheduler.run(controller.signal);
    },
    holdBindings: () => {
      const release = sim.holdBindings('default-scheduler');
      releases.push(release);
      return release;
    },
    quiet: () => quiet(sim, [scheduler]),
    settle: () => settle(sim, [scheduler], clock),
  };
  stops.push(async () => {
    for (const release of releases) release();
    controller.abort();
    scheduler.close();
    h.subscription.stop();
    await running;
  });
  return h;
}

function nodeOf(h: Harness, name: string): string | undefined {
  return h.sim.pod(`default/${name}`)?.spec?.nodeName;
}

function eventsOf(h: Harness, name: string): Array<{ reason: string; message: string }> {
  return h.sim.eventsFor(`default/${name}`).map(({ reason, message }) => ({ reason, message }));
}

function condition(p: Pod | undefined, type: string): { status: string; reason?: string; message?: string } | undefined {
  const found = p?.status?.conditions?.find((c) => c.type === type);
  if (found === undefined) return undefined;
  return { status: found.status, ...(found.reason !== undefined ? { reason: found.reason } : {}), ...(found.message !== undefined ? { message: found.message } : {}) };
}

describe('Scheduler against a simulated cluster', () => {
  it('binds a pod and records a Scheduled event', async () => {
    const h = harness();
    h.sim.addNode(node('n1').build());
    h.sim.createPod(pod('p').request({ cpu: '1' }).build());
    h.start();
    await h.settle();

    expect(nodeOf(h, 'p')).toBe('n1');
    expect(h.sim.history.bindings).toEqual([expect.objectContaining({ pod: 'default/p', node: 'n1', writer: 'default-scheduler' })]);
    expect(eventsOf(h, 'p')).toEqual([{ reason: 'Scheduled', message: 'Successfully assigned default/p to n1' }]);
    expect(condition(h.sim.pod('default/p'), 'PodScheduled')).toEqual({ status: 'True' });
    expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
    expect(h.errors).toEqual([]);
  });

  it('reports a pod that fits nowhere, and binds it once a node that fits is added', async () => {
    const h = harness();
    h.sim.addNode(node('n1').cpu('1').build());
    h.sim.addNode(node('n2').cpu('1').build());
    h.sim.createPod(pod('big').request({ cpu: '2' }).build());
    h.start();
    await h.quiet();

    const message = '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.';
    expect(eventsOf(h, 'big')).toEqual([{ reason: 'FailedScheduling', message }]);
    expect(condition(h.sim.pod('default/big'), 'PodScheduled')).toEqual({ status: 'False', reason: 'Unschedulable', message });
    expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 0, unschedulable: 1 });

    // The Node Add event moves it out of unschedulable; it still waits out its first backoff (1 s).
    h.sim.addNode(node('n3').cpu('4').build());
    await h.quiet();
    expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 1, unschedulable: 0 });
    expect(nodeOf(h, 'big')).toBeUndefined();

    h.clock.advance(1_000);
    await h.quiet();
    expect(nodeOf(h, 'big')).toBe('n3');
    expect(eventsOf(h, 'big').at(-1)).toEqual({ reason: 'Scheduled', message: 'Successfully assigned default/big to n3' });
  });

  it('forgets a pod whose binding the API refused, so its room is free for the next pod at once', async () => {
    const h = harness();
    h.sim.addNode(node('n1').cpu('2').build());
    h.sim.addNode(node('n2').cpu('2').taint('dedicated', 'other', 'NoSchedule').build());
    h.sim.createPod(pod('p').request({ cpu: '2' }).build());
    const releaseBindings = h.holdBindings();
    h.start();
    await h.quiet(); // p is assumed on n1; its binding waits at the API

    // q (higher priority, never preempts) finds n1 taken by the assumed p.
    h.sim.createPod(pod('q').request({ cpu: '2' }).priority(10).spec({ preemptionPolicy: 'Never' }).build());
    await h.quiet();
    expect(eventsOf(h, 'q')).toEqual([
      {
        reason: 'FailedScheduling',
        message: '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: other}. preemption: not eligible due to preemptionPolicy=Never.',
      },
    ]);

    // Another writer binds p to n2 first; our scheduler does not hear of it while its watch is held.
    h.subscription.pause();
    await h.sim.writer('other-scheduler').bind(h.sim.pod('default/p')!, 'n2');
    releaseBindings();
    await h.quiet();
    const conflict = 'Operation cannot be fulfilled on pods/binding "p": pod p is already assigned to node "n2"';
    expect(h.sim.history.refused).toEqual([expect.objectContaining({ pod: 'default/p', node: 'n1', writer: 'default-scheduler', reason: 'Conflict', message: conflict })]);
    expect(eventsOf(h, 'p')).toEqual([{ reason: 'FailedScheduling', message: `running Bind plugin "DefaultBinder": binding rejected: ${conflict}` }]);

    // q was moved by the refusal (the room came back) and, after its backoff, takes n1.
    h.clock.advance(1_000);
    await h.quiet();
    expect(nodeOf(h, 'q')).toBe('n1');

    h.subscription.resume();
    await h.settle();
    expect(nodeOf(h, 'p')).toBe('n2');
    expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
    expect(noPodBoundTwice(h.sim.history, h.sim.pods())).toEqual([]);
    expect(noNodeOvercommitted(h.sim.nodes(), h.sim.pods())).toEqual([]);
    expect(h.errors).toEqual([]);
  });

  it('preempts a lower-priority pod: evicts it, nominates the node, binds once the victim is gone', async () => {
    const h = harness();
    h.sim.addNode(node('n1').cpu('2').build());
    h.sim.createPod(pod('low').request({ cpu: '2' }).build());
    h.start();
    await h.settle();
    expect(nodeOf(h, 'low')).toBe('n1');

    h.sim.createPod(pod('high').request({ cpu: '2' }).priority(100).build());
    await h.quiet();
    expect(h.sim.history.evictions).toEqual([expect.objectContaining({ pod: 'default/low', node: 'n1', preemptor: 'default/high' })]);
    expect(eventsOf(h, 'low').at(-1)).toEqual({ reason: 'Preempted', message: 'Preempted by pod uid-pod-default-high on node n1' });
    expect(h.sim.pod('default/low')).toBeUndefined();
    expect(h.sim.pod('default/high')?.status?.nominatedNodeName).toBe('n1');
    expect(eventsOf(h, 'high')).toEqual([{ reason: 'FailedScheduling', message: '0/1 nodes are available: 1 Insufficient cpu.' }]);
    expect(nodeOf(h, 'high')).toBeUndefined();

    await h.settle();
    expect(nodeOf(h, 'high')).toBe('n1');
    expect(h.sim.history.bindings.map((b) => b.pod)).toEqual(['default/low', 'default/high']);
    expect(h.errors).toEqual([]);
  });

  it('counts a nominated pod once on its node after assuming it there', async () => {
    const h = harness();
    h.sim.addNode(node('n1').cpu('2').build());
    h.sim.createPod(pod('low').request({ cpu: '2' }).build());
    h.start();
    await h.settle();
    h.sim.createPod(pod('high').request({ cpu: '1' }).priority(100).build());
    await h.quiet();
    expect(h.sim.pod('default/low')).toBeUndefined();
    expect(h.sim.pod('default/high')?.status?.nominatedNodeName).toBe('n1');

    // high is assumed on n1 and its binding waits at the API: it holds 1 cpu there, once.
    const releaseBindings = h.holdBindings();
    h.clock.advance(1_000);
    await h.quiet();
    expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
    h.sim.createPod(pod('small').request({ cpu: '1' }).build());
    await h.quiet();
    expect(eventsOf(h, 'small')).toEqual([]);

    releaseBindings();
    await h.settle();
    expect(nodeOf(h, 'high')).toBe('n1');
    expect(nodeOf(h, 'small')).toBe('n1');
  });

  it('retries the pods a nomination kept out once the nominated pod is gone', async () => {
    const h = harness();
    h.sim.addNode(node('n1').cpu('2').build());
    h.sim.createPod(pod('low').request({ cpu: '2' }).build());
    h.start();
    await h.settle();
    h.sim.createPod(pod('high').request({ cpu: '2' }).priority(100).build());
    await h.quiet();
    expect(h.sim.pod('default/high')?.status?.nominatedNodeName).toBe('n1');
    h.sim.createPod(pod('small').request({ cpu: '1' }).build());
    await h.quiet();
    expect(eventsOf(h, 'small').map((event) => event.reason)).toEqual(['FailedScheduling']);
    expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 1, unschedulable: 1 }); // high backs off; small waits

    // high is deleted before its retry: the room it was promised is free, and nothing else happens.
    h.sim.deletePod('default/high');
    await h.settle();
    expect(nodeOf(h, 'small')).toBe('n1');
  });

  it('drops a nomination as soon as preemption finds no room for its pod any more', async () => {
    const h = harness();
    h.sim.addNode(node('n1').cpu('2').build());
    h.sim.createPod(pod('low').request({ cpu: '2' }).build());
    h.start();
    await h.settle();
    h.sim.createPod(pod('high').request({ cpu: '2' }).priority(100).build());
    await h.quiet();
    expect(h.sim.pod('default/high')?.status?.nominatedNodeName).toBe('n1');
    // small fits in n1 but for high's nomination there.
    h.sim.createPod(pod('small').request({ cpu: '1' }).build());
    await h.quiet();
    expect(eventsOf(h, 'small')).toEqual([{ reason: 'FailedScheduling', message: '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.' }]);

    // n1 shrinks: high fits nowhere now, and its next attempt finds no victims. Our watch is held, so
    // the scheduler cannot learn of that from the API: only its own memory can let small in.
    h.sim.updateNode(node('n1').cpu('1').build());
    await h.quiet();
    h.subscription.pause();
    h.clock.advance(1_000);
    await h.quiet();
    expect(eventsOf(h, 'high').at(-1)?.message).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
    expect(nodeOf(h, 'small')).toBe('n1');
    expect(h.sim.pod('default/high')?.status?.nominatedNodeName).toBeUndefined();
    h.subscription.resume();
    await h.settle();
  });

  it.each([
    { name: 'pods of one ReplicaSet spread over the nodes (default PodTopologySpread)', owned: true, nodesUsed: ['big', 'small-1', 'small-2'] },
    { name: 'pods of no controller all go to the emptiest node', owned: false, nodesUsed: ['big'] },
  ])('$name', async ({ owned, nodesUsed }) => {
    const h = harness();
    h.sim.addNode(node('big').cpu('32').memory('64Gi').build());
    h.sim.addNode(node('small-1').cpu('4').memory('8Gi').build());
    h.sim.addNode(node('small-2').cpu('4').memory('8Gi').build());
    h.start();
    for (const name of ['web-1', 'web-2', 'web-3']) {
      const builder = pod(name).request({ cpu: '100m', memory: '128Mi' });
      h.sim.createPod((owned ? builder.owner('ReplicaSet', 'web') : builder).build());
      await h.settle(); // one at a time, so each cycle sees the ones before
    }
    const used = new Set(['web-1', 'web-2', 'web-3'].map((name) => nodeOf(h, name)));
    expect([...used].sort()).toEqual(nodesUsed);
  });

  it('schedules pods of each of its profiles and ignores pods of other schedulers', async () => {
    const configuration = parseSchedulerConfiguration(`
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: default-scheduler
  - schedulerName: batch-scheduler
`);
    const h = harness({ configuration });
    h.sim.addNode(node('n1').build());
    h.sim.createPod(pod('batch').spec({ schedulerName: 'batch-scheduler' }).build());
    h.sim.createPod(pod('foreign').spec({ schedulerName: 'other-scheduler' }).build());
    await h.sim.idle();
    expect(h.scheduler.pendingPods()).toEqual({ active: 1, backoff: 0, unschedulable: 0 }); // only 'batch' was queued
    h.start();
    await h.settle();

    expect(nodeOf(h, 'batch')).toBe('n1');
    expect(nodeOf(h, 'foreign')).toBeUndefined();
    expect(eventsOf(h, 'foreign')).toEqual([]);
    expect(h.sim.pod('default/foreign')?.status?.conditions).toBeUndefined();
    expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
  });

  describe('does not schedule a terminating pod', () => {
    it('marked terminating before the scheduler saw it pending', async () => {
      const h = harness();
      h.sim.addNode(node('n1').build());
      h.subscription.pause();
      h.sim.createPod(pod('p').build());
      h.sim.markTerminating('default/p');
      h.subscription.resume();
      await h.sim.idle(); // both the Add and the Update arrived
      expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
      h.start();
      await h.settle();
      expect(nodeOf(h, 'p')).toBeUndefined();
      expect(eventsOf(h, 'p')).toEqual([]);
      expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
    });

    it('already terminating when the scheduler starts watching', async () => {
      const h = harness();
      h.subscription.stop();
      h.sim.addNode(node('n1').build());
      h.sim.createPod(pod('p').build());
      h.sim.markTerminating('default/p');
      h.subscription = h.sim.subscribe(h.scheduler, 'late-watch');
      await h.sim.idle();
      expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
      h.start();
      await h.settle();
      expect(nodeOf(h, 'p')).toBeUndefined();
      expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
    });

    it('marked terminating while its binding was in flight: the API refuses it, and it is not retried', async () => {
      const h = harness();
      h.sim.addNode(node('n1').build());
      h.sim.createPod(pod('p').build());
      const releaseBindings = h.holdBindings();
      h.start();
      await h.quiet();
      h.sim.markTerminating('default/p');
      releaseBindings();
      await h.settle();
      expect(h.sim.history.refused).toEqual([expect.objectContaining({ pod: 'default/p', reason: 'Conflict' })]);
      expect(h.sim.history.refused[0]?.message).toBe('Operation cannot be fulfilled on pods/binding "p": pod p is being deleted, cannot be assigned to a host');
      expect(nodeOf(h, 'p')).toBeUndefined();
      expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
      expect(h.errors).toEqual([]);
    });

    it('marked terminating while it waited for room', async () => {
      const h = harness();
      h.sim.addNode(node('n1').cpu('1').build());
      h.sim.createPod(pod('p').request({ cpu: '2' }).build());
      h.start();
      await h.settle();
      expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 0, unschedulable: 1 });

      h.sim.markTerminating('default/p');
      await h.settle();
      expect(h.scheduler.pendingPods()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
      h.sim.addNode(node('n2').cpu('4').build());
      await h.settle();
      expect(nodeOf(h, 'p')).toBeUndefined();
    });
  });
});
