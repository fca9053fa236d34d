import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import type { ContainerStatus, PodSandboxStatus } from '../runtime/runtime.js';
import { computePodStatus, type PodObservation, type WaitingReason } from './pod_status.js';

const NOW = Date.parse('2026-01-02T03:04:05Z');

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, status: Pod['status'] = { phase: 'Pending', qosClass: 'BestEffort' }): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: { containers: [{ name: 'app', image: 'k8ts/http-echo' }], ...spec },
    status,
  };
}

const sandbox: PodSandboxStatus = { id: 's1', uid: 'u1', name: 'p', namespace: 'ns', attempt: 0, state: 'ready', createdAt: new Date(NOW), ips: ['10.0.0.5'] };

let nextId = 0;
function instance(name: string, attempt: number, state: ContainerStatus['state'], extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    id: `c${nextId++}`,
    sandboxId: 's1',
    name,
    attempt,
    state,
    image: 'k8ts/http-echo',
    imageRef: 'sha256:abc',
    createdAt: new Date(NOW - 10_000 + attempt),
    ...(state !== 'created' ? { startedAt: new Date(NOW - 9_000) } : {}),
    ...(state === 'exited' ? { finishedAt: new Date(NOW - 1_000), exitCode: 1, reason: 'Error' } : {}),
    logPath: '/x',
    labels: { 'io.kubernetes.container.name': name, 'io.kubernetes.pod.uid': 'u1' },
    annotations: {},
    ...extra,
  };
}

function observe(p: Pod, containers: ContainerStatus[], extra: Partial<PodObservation> = {}): ReturnType<typeof computePodStatus> {
  return computePodStatus({
    pod: p,
    sandbox,
    containers,
    waiting: new Map<string, WaitingReason>(),
    terminationMessages: new Map(),
    probes: { ready: (container: Container) => container.readinessProbe === undefined, started: () => true },
    hostIPs: ['192.168.1.2'],
    nowMs: NOW,
    terminal: false,
    ...extra,
  });
}

const condition = (status: ReturnType<typeof computePodStatus>, type: string) => status.conditions?.find((c) => c.type === type);

describe('computePodStatus', () => {
  it('a pod whose container is not created yet is Pending, ContainerCreating, with IPs, start time and QoS kept', () => {
    const status = observe(pod(), []);
    expect(status.phase).toBe('Pending');
    expect(status.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } } });
    expect(status).toMatchObject({ podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }], hostIP: '192.168.1.2', hostIPs: [{ ip: '192.168.1.2' }], qosClass: 'BestEffort', startTime: '2026-01-02T03:04:05Z' });
    expect(condition(status, 'PodReadyToStartContainers')?.status).toBe('True');
    expect(condition(status, 'ContainersReady')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' });
  });

  it('a running container makes the pod Running and Ready, with its runtime id and image ref', () => {
    const running = instance('app', 0, 'running');
    const status = observe(pod(), [running]);
    expect(status.phase).toBe('Running');
    expect(status.containerStatuses?.[0]).toMatchObject({ ready: true, started: true, containerID: `k8ts://${running.id}`, imageID: 'sha256:abc', image: 'k8ts/http-echo', state: { running: { startedAt: '2026-01-02T03:03:56Z' } } });
    for (const type of ['Initialized', 'Ready', 'ContainersReady']) expect(condition(status, type)?.status).toBe('True');
  });

  it('a container with a readiness probe that has not passed is not ready', () => {
    const p = pod({ containers: [{ name: 'app', image: 'x', readinessProbe: { httpGet: { port: 8080 } } }] });
    const status = observe(p, [instance('app', 0, 'running')]);
    expect(status.phase).toBe('Running');
    expect(status.containerStatuses?.[0]?.ready).toBe(false);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
  });

  it('a crashed container in back-off shows CrashLoopBackOff with its last termination, and the pod stays Running', () => {
    const crashed = instance('app', 2, 'exited', { exitCode: 3, reason: 'Error' });
    const waiting = new Map([['app', { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=app pod=p_ns(u1)' }]]);
    const status = observe(pod(), [instance('app', 1, 'exited'), crashed], { waiting });
    expect(status.phase).toBe('Running');
    expect(status.containerStatuses?.[0]).toMatchObject({
      restartCount: 2,
      ready: false,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=app pod=p_ns(u1)' } },
      lastState: { terminated: { exitCode: 3, reason: 'Error', containerID: `k8ts://${crashed.id}` } },
    });
  });

  it('a running restarted container keeps the previous instance as its last state', () => {
    const status = observe(pod(), [instance('app', 0, 'exited', { exitCode: 137, reason: 'OOMKilled' }), instance('app', 1, 'running')]);
    expect(status.containerStatuses?.[0]).toMatchObject({ restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } });
  });

  it('restartPolicy Never: Succeeded when all exit 0, Failed when one fails; the message is the termination message', () => {
    const never = pod({ restartPolicy: 'Never', containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }] });
    const ok = observe(never, [instance('a', 0, 'exited', { exitCode: 0, reason: 'Completed' }), instance('b', 0, 'exited', { exitCode: 0, reason: 'Completed' })]);
    expect(ok.phase).toBe('Succeeded');
    expect(condition(ok, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    const failedB = instance('b', 0, 'exited', { exitCode: 2 });
    const failed = observe(never, [instance('a', 0, 'exited', { exitCode: 0, reason: 'Completed' }), failedB], { terminationMessages: new Map([[failedB.id, 'boom']]) });
    expect(failed.phase).toBe('Failed');
    expect(failed.containerStatuses?.[1]?.state?.terminated).toMatchObject({ exitCode: 2, message: 'boom', reason: 'Error' });
  });

  it('restartPolicy OnFailure: a failed container about to restart keeps the pod Running', () => {
    const onFailure = pod({ restartPolicy: 'OnFailure' });
    expect(observe(onFailure, [instance('app', 0, 'exited', { exitCode: 1 })]).phase).toBe('Running');
    expect(observe(onFailure, [instance('app', 0, 'exited', { exitCode: 0, reason: 'Completed' })]).phase).toBe('Succeeded');
  });

  it('a deleted pod whose containers were killed is terminal: Failed even under Always', () => {
    const status = observe(pod(), [instance('app', 0, 'exited', { exitCode: 143 })], { terminal: true, sandbox: { ...sandbox, state: 'notready' } });
    expect(status.phase).toBe('Failed');
    expect(condition(status, 'PodReadyToStartContainers')?.status).toBe('False');
  });

  it('init containers: Pending while one runs, regular containers PodInitializing; Initialized once all ended with 0', () => {
    const p = pod({ initContainers: [{ name: 'init1', image: 'x' }, { name: 'init2', image: 'x' }] });
    const first = observe(p, [instance('init1', 0, 'exited', { exitCode: 0, reason: 'Completed' }), instance('init2', 0, 'running')]);
    expect(first.phase).toBe('Pending');
    expect(first.initContainerStatuses?.map((s) => Object.keys(s.state ?? {})[0])).toEqual(['terminated', 'running']);
    expect(first.containerStatuses?.[0]?.state?.waiting?.reason).toBe('PodInitializing');
    expect(condition(first, 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [init2]' });
    const done = observe(p, [instance('init1', 0, 'exited', { exitCode: 0 }), instance('init2', 0, 'exited', { exitCode: 0 }), instance('app', 0, 'running')]);
    expect(done.phase).toBe('Running');
    expect(condition(done, 'Initialized')?.status).toBe('True');
  });

  it('a failed init container under Never fails the pod', () => {
    const p = pod({ restartPolicy: 'Never', initContainers: [{ name: 'init', image: 'x' }] });
    expect(observe(p, [instance('init', 0, 'exited', { exitCode: 1 })]).phase).toBe('Failed');
  });

  it('a running, started sidecar counts as initialized and must be ready for ContainersReady', () => {
    const p = pod({ initContainers: [{ name: 'side', image: 'x', restartPolicy: 'Always', readinessProbe: { exec: { command: ['true'] } } }] });
    const status = observe(p, [instance('side', 0, 'running'), instance('app', 0, 'running')]);
    expect(status.phase).toBe('Running');
    expect(condition(status, 'Initialized')?.status).toBe('True');
    expect(condition(status, 'ContainersReady')).toMatchObject({ status: 'False', message: 'containers with unready status: [side]' });
  });

  it('keeps a condition\'s lastTransitionTime while its status does not change', () => {
    const before = pod({}, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' }] });
    const status = observe(before, [instance('app', 0, 'running')]);
    expect(condition(status, 'Ready')?.lastTransitionTime).toBe('2025-01-01T00:00:00Z');
    expect(condition(status, 'ContainersReady')?.lastTransitionTime).toBe('2026-01-02T03:04:05Z');
  });
});
