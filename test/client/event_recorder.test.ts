import { FakeClock } from '@k8ts/base';
import { ApiClient, ApiEventRecorder, EVENT_QUEUE_LIMIT, isNotFound, type ApiEventRecorderOptions, type KubeObject, type ResourceClient } from '@k8ts/client';
import { TestCluster, waitForLeader } from '@k8ts/testkit';
import type { Event } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcApiServer, eventually, silentLogger } from './harness.js';

/**
 * ApiEventRecorder against a real store and an in-process API server: what it writes is what
 * `kubectl get events` would show. Pacing is driven by a FakeClock: the recorder waits for tokens on
 * it, so a test moves time by hand and never depends on how fast this machine is.
 */
interface Pod extends KubeObject {
  spec?: { containers: { name: string; image: string }[] };
}

const NAMESPACE = 'recorded';
const START = Date.parse('2026-01-01T00:00:00Z');

describe('ApiEventRecorder against a real store and apiserver', () => {
  let store: TestCluster;
  let replica: GrpcApiServer;
  let client: ApiClient;
  let events: ResourceClient<Event & KubeObject>;
  let pods: ResourceClient<Pod>;

  const newRecorder = (options: Partial<ApiEventRecorderOptions> = {}): ApiEventRecorder =>
    new ApiEventRecorder({ client, component: 'test-scheduler', instance: 'replica-1', ...options });
  /** Events about the object named `name`, as a user lists them. */
  const eventsAbout = async (name: string): Promise<(Event & KubeObject)[]> =>
    (await events.namespace(NAMESPACE).list()).items.filter((event) => event.involvedObject.name === name);
  const podNamed = (name: string): Promise<Pod> =>
    pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: NAMESPACE, name }, spec: { containers: [{ name: 'main', image: 'busybox' }] } });

  beforeAll(async () => {
    store = await TestCluster.start('k8ts', { size: 1 });
    await waitForLeader(store.endpoints);
    const started = await GrpcApiServer.start(store.endpoints);
    replica = started.replica;
    client = new ApiClient({ addresses: [started.address], fieldManager: 'event-recorder-test' });
    events = client.resource<Event & KubeObject>('', 'v1', 'events');
    pods = client.resource<Pod>('', 'v1', 'pods').namespace(NAMESPACE);
    await client.resource<KubeObject>('', 'v1', 'namespaces').create({ metadata: { name: NAMESPACE } });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    replica?.stop();
    await store?.stop();
  });

  test('writes one Event naming the object, its source and reporting component, with count 1', async () => {
    const pod = await podNamed('first');
    const clock = new FakeClock(START);
    const recorder = newRecorder({ clock });
    recorder.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available', 'Scheduling');
    await recorder.flush();
    const written = await eventsAbout('first');
    expect(written).toHaveLength(1);
    const [event] = written;
    expect(event?.metadata?.name).toMatch(/^first\.[0-9a-f]{16}$/);
    expect(event?.involvedObject).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: NAMESPACE,
      name: 'first',
      uid: pod.metadata?.uid,
      resourceVersion: pod.metadata?.resourceVersion,
    });
    expect(event).toMatchObject({
      type: 'Warning',
      reason: 'FailedScheduling',
      action: 'Scheduling',
      message: '0/3 nodes are available',
      source: { component: 'test-scheduler' },
      reportingComponent: 'test-scheduler',
      reportingInstance: 'replica-1',
      count: 1,
    });
    expect(Date.parse(event?.firstTimestamp ?? '')).toBe(START);
    expect(Date.parse(event?.lastTimestamp ?? '')).toBe(START);
    expect(recorder.dropped).toBe(0);
  });

  test('a repeat raises the count and lastTimestamp of the same Event; another message is another Event', async () => {
    const pod = await podNamed('repeated');
    const clock = new FakeClock(START);
    const recorder = newRecorder({ clock });
    recorder.event(pod, 'Warning', 'FailedScheduling', 'no fit', 'Scheduling');
    await recorder.flush();
    const [first] = await eventsAbout('repeated');
    clock.advance(5_000);
    recorder.event(pod, 'Warning', 'FailedScheduling', 'no fit', 'Scheduling');
    recorder.event(pod, 'Warning', 'FailedScheduling', 'no fit', 'Scheduling');
    await recorder.flush();
    const afterRepeats = await eventsAbout('repeated');
    expect(afterRepeats).toHaveLength(1);
    expect(afterRepeats[0]?.metadata?.name).toBe(first?.metadata?.name);
    expect(afterRepeats[0]?.count).toBe(3);
    expect(Date.parse(afterRepeats[0]?.firstTimestamp ?? '')).toBe(START);
    expect(Date.parse(afterRepeats[0]?.lastTimestamp ?? '')).toBe(START + 5_000);

    recorder.event(pod, 'Normal', 'Scheduled', 'assigned to node-1', 'Binding');
    await recorder.flush();
    const all = await eventsAbout('repeated');
    expect(all.map((event) => [event.reason, event.count]).sort()).toEqual([
      ['FailedScheduling', 3],
      ['Scheduled', 1],
    ]);
  });

  test('the token bucket paces writes: a burst at once, then one per 1/qps of clock time', async () => {
    const pod = await podNamed('paced');
    const clock = new FakeClock(START);
    const recorder = newRecorder({ clock, qps: 2, burst: 3 });
    for (let i = 0; i < 5; i++) recorder.event(pod, 'Normal', 'Paced', `event ${i}`);
    const written = async (): Promise<number> => (await eventsAbout('paced')).length;
    // The burst goes out; then the sender waits on the clock for its next token.
    await eventually(async () => (await written()) === 3 && clock.pending() === 1, 10_000, 'the burst of 3 written');
    clock.advance(499);
    expect(clock.pending()).toBe(1); // a token takes 500 ms at 2/s: still waiting
    expect(await written()).toBe(3);
    clock.advance(1);
    await eventually(async () => (await written()) === 4 && clock.pending() === 1, 10_000, 'the 4th event after 500 ms');
    clock.advance(500);
    await recorder.flush();
    expect(await written()).toBe(5);
    expect(clock.pending()).toBe(0);
  });

  test(`the queue holds ${EVENT_QUEUE_LIMIT} events: more are dropped and counted, the rest still go out`, async () => {
    const pod = await podNamed('flooded');
    const clock = new FakeClock(START);
    const recorder = newRecorder({ clock, qps: 1, burst: 1 });
    // The first event leaves the queue at once (it takes the one token); the next 1000 wait in it.
    for (let i = 0; i < EVENT_QUEUE_LIMIT + 100; i++) recorder.event(pod, 'Warning', 'Flooded', 'the same message');
    expect(recorder.dropped).toBe(99);
    await eventually(async () => (await eventsAbout('flooded'))[0]?.count === 1 && clock.pending() === 1, 10_000, 'the first event written');
    clock.advance(1_000);
    await eventually(async () => (await eventsAbout('flooded'))[0]?.count === 2 && clock.pending() === 1, 10_000, 'a queued event written');
    expect(await eventsAbout('flooded')).toHaveLength(1);
    // Two events have left the queue since it filled (one written, one waiting for its token): room for two.
    recorder.event(pod, 'Warning', 'Flooded', 'the same message');
    recorder.event(pod, 'Warning', 'Flooded', 'the same message');
    expect(recorder.dropped).toBe(99);
    recorder.event(pod, 'Warning', 'Flooded', 'the same message');
    expect(recorder.dropped).toBe(100);
  });

  test('a failed write neither throws nor rejects: it is logged at debug and the next event goes out', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failures: unknown[] = [];
      const logger = Object.assign(silentLogger(), { debug: (fields: unknown) => void failures.push(fields) });
      const recorder = newRecorder({ logger: logger as NonNullable<ApiEventRecorderOptions['logger']> });
      const orphan: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'no-such-namespace', name: 'orphan', uid: 'u-1' } };
      expect(() => recorder.event(orphan, 'Warning', 'Lost', 'about an object in a missing namespace')).not.toThrow();
      await recorder.flush();
      expect(failures).toHaveLength(1);
      expect(isNotFound((failures[0] as { err?: unknown }).err)).toBe(true);
      const pod = await podNamed('after-failure');
      recorder.event(pod, 'Normal', 'Recovered', 'written after a failure');
      await recorder.flush();
      expect(await eventsAbout('after-failure')).toHaveLength(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
