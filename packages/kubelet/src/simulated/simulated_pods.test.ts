import { FakeClock, seededRandom } from '@k8ts/base';
import { apiErrors } from '@k8ts/apimachinery';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POD_TIMINGS, type SimulatedPodTimings } from './options.js';
import { PodIpPool } from './pod_ips.js';
import { SimulatedPods, type PodWrites, type SimulatedNodeRef } from './simulated_pods.js';
import { WriteQueue } from './write_queue.js';

interface Written {
  kind: 'status' | 'delete';
  name: string;
  uid: string;
  status?: PodStatus;
}

function setup(timings: Partial<SimulatedPodTimings> = {}, fail?: (call: Written) => Error | undefined) {
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const pool = new PodIpPool('10.244.1.0/24');
  const node: SimulatedNodeRef = { name: 'sim-0', hostIP: '172.16.0.1', podIps: () => pool };
  const written: Written[] = [];
  const record = (call: Written): Promise<void> => {
    const error = fail?.(call);
    if (error) return Promise.reject(error);
    written.push(call);
    return Promise.resolve();
  };
  const writes: PodWrites = {
    patchStatus: (_namespace, name, uid, status) => record({ kind: 'status', name, uid, status }),
    deleteNow: (_namespace, name, uid) => record({ kind: 'delete', name, uid }),
  };
  const pods = new SimulatedPods({
    nodes: (name) => (name === 'sim-0' ? node : undefined),
    writes,
    queue: new WriteQueue({ concurrency: 4 }),
    timings: { ...DEFAULT_POD_TIMINGS, jitterMs: 0, ...timings },
    clock,
    random: seededRandom(7),
    logger: pino({ level: 'silent' }),
  });
  const settle = async (ms = 0): Promise<void> => {
    clock.advance(ms);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return { clock, pool, pods, written, settle };
}

function pod(name: string, extra: { nodeName?: string; job?: boolean; deletion?: boolean; status?: PodStatus; uid?: string } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: extra.uid ?? `uid-${name}`,
      ...(extra.job ? { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'job-uid', controller: true }] } : {}),
      ...(extra.deletion ? { deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 } : {}),
    },
    spec: { nodeName: extra.nodeName ?? 'sim-0', containers: [{ name: 'app', image: 'k8ts/http-echo' }] },
    status: extra.status ?? { phase: 'Pending', qosClass: 'BestEffort' },
  };
}

const phases = (written: Written[]): string[] => written.map((w) => (w.kind === 'delete' ? `delete ${w.name}` : `${w.name} ${w.status?.phase}`));

describe('SimulatedPods', () => {
  it('writes a bound pod Running and Ready at once, with an address of its node and the kubelet shape', async () => {
    const { pods, written, settle, pool } = setup();
    pods.upsert(pod('a'));
    await settle();
    expect(phases(written)).toEqual(['a Running']);
    const status = written[0]?.status as PodStatus;
    expect(status.podIP).toBe('10.244.1.2');
    expect(status.hostIP).toBe('172.16.0.1');
    expect(status.qosClass).toBe('BestEffort');
    expect(status.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True']);
    expect(status.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: true, started: true, restartCount: 0, state: { running: {} } });
    expect(written[0]?.uid).toBe('uid-a');
    expect(pool.used).toBe(1);
    // The echo of its own write changes nothing.
    pods.upsert(pod('a', { status }));
    await settle();
    expect(written).toHaveLength(1);
  });

  it('reports ContainerCreating during the start delay, then Running not ready, then Ready', async () => {
    const { pods, written, settle } = setup({ startDelayMs: 1000, readyDelayMs: 500 });
    pods.upsert(pod('a'));
    await settle();
    expect(written[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ContainerCreating');
    await settle(1000);
    expect(written[1]?.status).toMatchObject({ phase: 'Running' });
    expect(written[1]?.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    await settle(500);
    expect(written[2]?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(phases(written)).toEqual(['a Pending', 'a Running', 'a Running']);
  });

  it("completes a Job's pod after its run time and frees its address", async () => {
    const { pods, written, settle, pool } = setup({ completeAfterMs: 2000 });
    pods.upsert(pod('j', { job: true }));
    await settle();
    await settle(1999);
    expect(phases(written)).toEqual(['j Running']);
    await settle(1);
    expect(phases(written)).toEqual(['j Running', 'j Succeeded']);
    expect(written[1]?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(pool.used).toBe(0);
    expect(pods.counts().tracked).toBe(0);
  });

  it('fails pods at the failure rate: phase Failed, exit code 1, reason Error', async () => {
    const { pods, written, settle, pool } = setup({ failureRate: 1 });
    pods.upsert(pod('f'));
    await settle();
    expect(phases(written)).toEqual(['f Failed']);
    expect(written[0]?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(pool.used).toBe(0);
  });

  it('deletes a pod marked for deletion for good (uid precondition) after the delete delay', async () => {
    const { pods, written, settle, pool } = setup({ deleteDelayMs: 300 });
    pods.upsert(pod('d'));
    await settle();
    pods.upsert(pod('d', { deletion: true }));
    await settle(299);
    expect(phases(written)).toEqual(['d Running']);
    await settle(1);
    expect(phases(written)).toEqual(['d Running', 'delete d']);
    expect(written[1]?.uid).toBe('uid-d');
    expect(pool.used).toBe(0);
  });

  it('ignores pods of other nodes, and drops pods a relist no longer shows', async () => {
    const { pods, written, settle } = setup({ startDelayMs: 1000 });
    pods.upsert(pod('x', { nodeName: 'elsewhere' }));
    pods.upsert(pod('gone'));
    await settle();
    pods.relisted(new Set());
    await settle(1000);
    expect(phases(written)).toEqual(['gone Pending']);
    expect(pods.counts().tracked).toBe(0);
  });

  it('adopts a pod it ran before a restart: no write, its address kept', async () => {
    const { pods, written, settle, pool } = setup();
    const running: PodStatus = {
      phase: 'Running',
      podIP: '10.244.1.2',
      containerStatuses: [{ name: 'app', image: 'k8ts/http-echo', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
    };
    pods.upsert(pod('old', { status: running }));
    pods.upsert(pod('new'));
    await settle();
    expect(phases(written)).toEqual(['new Running']);
    expect(written[0]?.status?.podIP).toBe('10.244.1.3');
    expect(pool.used).toBe(2);
  });

  it('retries a write the API did not take, and gives up on a pod that is gone', async () => {
    let failures = 0;
    const { pods, written, settle } = setup({}, (call) => {
      if (call.name === 'gone') return apiErrors.notFoundPath('/api/v1/namespaces/default/pods/gone');
      if (failures++ < 2) return apiErrors.serviceUnavailable('unavailable');
      return undefined;
    });
    pods.upsert(pod('gone'));
    await settle();
    expect(pods.counts().tracked).toBe(0);
    pods.upsert(pod('a'));
    await settle();
    expect(written).toHaveLength(0);
    await settle(500);
    expect(written).toHaveLength(0);
    await settle(1000);
    expect(phases(written)).toEqual(['a Running']);
    expect(pods.counts().writeErrors).toBe(2);
  });
});
