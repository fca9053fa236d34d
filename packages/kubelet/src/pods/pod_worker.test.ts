/**
 * The pod worker's loop logic (which action follows which runtime state) against a tiny in-memory
 * Runtime double and a fake pods client: a unit test of decisions only. The worker against real
 * processes, apiserver and store is test/node/lifecycle*.test.ts.
 */
import { FakeClock } from '@k8ts/base';
import type { EventRecorder, KubeObject, ResourceClient } from '@k8ts/client';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeContainerConfig } from '../container/container_config.js';
import { RuntimeError, type ContainerConfig, type ContainerStatus, type PodSandboxConfig, type PodSandboxStatus, type Runtime } from '../runtime/runtime.js';
import { Backoff } from './backoff.js';
import { Limiter } from './limiter.js';
import { PodWorker, shouldRestart, type PodProbes, type PodWorkerContext } from './pod_worker.js';
import { StatusManager } from './status_manager.js';

/** Sandboxes and containers in memory; `exit` ends a container as a process would. */
class RuntimeDouble {
  sandboxes = new Map<string, PodSandboxStatus>();
  containers = new Map<string, ContainerStatus>();
  stops: { id: string; timeoutSeconds: number }[] = [];
  /** Every execSync (hooks, exec probes), in order, and the exit code it answers. */
  execs: { id: string; command: string; when: string }[] = [];
  execExitCode = 0;
  private listeners: ((id: string) => void)[] = [];
  private next = 0;
  constructor(private readonly clock: FakeClock) {}

  exit(id: string, exitCode: number): void {
    const container = this.containers.get(id)!;
    this.containers.set(id, { ...container, state: 'exited', exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', finishedAt: new Date(this.clock.now()) });
    for (const listener of this.listeners) listener(id);
  }

  running(name: string): ContainerStatus[] {
    return [...this.containers.values()].filter((c) => c.name === name && c.state === 'running');
  }

  all(name: string): ContainerStatus[] {
    return [...this.containers.values()].filter((c) => c.name === name).sort((a, b) => a.attempt - b.attempt);
  }

  asRuntime(): Runtime {
    const self = this;
    const notFound = (id: string): never => {
      throw new RuntimeError('NotFound', `no ${id}`);
    };
    return {
      version: () => ({ runtimeName: 'double', runtimeVersion: '0' }),
      async pullImage(image: string) {
        if (image.startsWith('missing')) throw new RuntimeError('ImageNotFound', `image "${image}" not found in the catalog`);
        return `sha256:${image}`;
      },
      listImages: async () => [],
      async runPodSandbox(config: PodSandboxConfig) {
        const id = `sb${self.next++}`;
        self.sandboxes.set(id, { id, uid: config.uid, name: config.name, namespace: config.namespace, attempt: config.attempt, state: 'ready', createdAt: new Date(self.clock.now()), ips: ['10.1.0.9'] });
        return id;
      },
      async stopPodSandbox(id: string) {
        const sandbox = self.sandboxes.get(id);
        if (sandbox) self.sandboxes.set(id, { ...sandbox, state: 'notready' });
      },
      async removePodSandbox(id: string) {
        self.sandboxes.delete(id);
      },
      podSandboxStatus: async (id: string) => self.sandboxes.get(id) ?? notFound(id),
      listPodSandboxes: async () => [...self.sandboxes.values()],
      async createContainer(sandboxId: string, config: ContainerConfig) {
        const id = `c${self.next++}`;
        const { name, attempt, image, logPath, labels, annotations } = config;
        self.containers.set(id, { id, sandboxId, name, attempt, image, imageRef: `sha256:${image}`, state: 'created', createdAt: new Date(self.clock.now()), logPath, labels, annotations });
        return id;
      },
      async startContainer(id: string) {
        const container = self.containers.get(id) ?? notFound(id);
        self.containers.set(id, { ...container, state: 'running', startedAt: new Date(self.clock.now()) });
      },
      async stopContainer(id: string, timeoutSeconds: number) {
        const container = self.containers.get(id);
        if (container?.state !== 'running') return;
        self.stops.push({ id, timeoutSeconds });
        self.containers.set(id, { ...container, state: 'exited', exitCode: 143, reason: 'Error', finishedAt: new Date(self.clock.now()) });
      },
      async removeContainer(id: string) {
        self.containers.delete(id);
      },
      containerStatus: async (id: string) => self.containers.get(id) ?? notFound(id),
      listContainers: async () => [...self.containers.values()],
      containerStats: async (id: string) => ({ id, cpuUsageNanoCores: 0, memoryWorkingSetBytes: 0 }),
      onContainerExit: (listener: (id: string) => void) => void self.listeners.push(listener),
      async execSync(id: string, command: readonly string[]) {
        self.execs.push({ id, command: command.join(' '), when: self.containers.get(id)?.state ?? 'gone' });
        return { exitCode: self.execExitCode, stdout: new Uint8Array(), stderr: new TextEncoder().encode('nope') };
      },
      exec: async () => 0,
      attach: async () => undefined,
      portForward: async () => undefined,
      close: async () => undefined,
    };
  }
}

/** The pods API as far as the worker uses it: updateStatus, get, delete. */
class PodsDouble {
  pod: Pod | undefined;
  deletes: { name: string; options: unknown }[] = [];
  private version = 1;
  asClient(): ResourceClient<Pod & KubeObject> {
    const view = {
      namespace: () => view,
      updateStatus: async (pod: Pod) => {
        this.pod = { ...this.pod!, status: pod.status!, metadata: { ...this.pod!.metadata, resourceVersion: String(++this.version) } };
        return this.pod;
      },
      get: async () => this.pod!,
      delete: async (name: string, options: unknown) => {
        this.deletes.push({ name, options });
        return { deleted: true, object: this.pod! };
      },
    };
    return view as unknown as ResourceClient<Pod & KubeObject>;
  }
}

const noProbes: PodProbes = { ready: () => true, started: () => true, track: () => undefined, livenessFailed: () => undefined, stop: () => undefined };

describe('PodWorker (loop logic over a runtime double)', () => {
  let rootDir: string;
  let clock: FakeClock;
  let runtime: RuntimeDouble;
  let pods: PodsDouble;
  let events: string[];
  let metrics: string[];

  beforeEach(async () => {
    rootDir = await mkdtemp(join(tmpdir(), 'pod-worker-'));
    clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    runtime = new RuntimeDouble(clock);
    pods = new PodsDouble();
    events = [];
    metrics = [];
  });
  afterEach(async () => rm(rootDir, { recursive: true, force: true }));

  function worker(spec: Partial<NonNullable<Pod['spec']>>): PodWorker {
    pods.pod = {
      metadata: { name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: '1' },
      spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'k8ts/http-echo:1' }], ...spec },
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    };
    const recorder: EventRecorder = { event: (_object, type, reason, message) => void events.push(`${type} ${reason} ${message}`) };
    const rt = runtime.asRuntime();
    const context: PodWorkerContext = {
      runtime: rt,
      clock,
      logger: pino({ level: 'silent' }),
      recorder,
      statuses: new StatusManager(pods.asClient(), pino({ level: 'silent' })),
      pods: pods.asClient(),
      limiter: new Limiter(4),
      crashBackoff: new Backoff(clock),
      imageBackoff: new Backoff(clock),
      rootDir,
      setup: {
        setUpVolumes: async () => ({}),
        tearDownVolumes: async () => undefined,
        containerConfig: (input) => makeContainerConfig({ ...input, hostIP: '192.168.0.1', nodeName: 'n1', lookup: { configMap: () => undefined, secret: () => undefined, services: () => [] } }),
      },
      hostIPs: () => ['192.168.0.1'],
      probesFor: () => noProbes,
      containersSeen: () => undefined,
      finished: () => undefined,
      metrics: {
        podStarted: () => void metrics.push('started'),
        podWorkerDuration: (operation) => void metrics.push(operation),
        relistDuration: () => undefined,
      },
    };
    const created = new PodWorker(pods.pod, context);
    rt.onContainerExit(() => created.wake());
    return created;
  }

  async function settle(w: PodWorker): Promise<Pod> {
    await w.idle();
    w.update(pods.pod!);
    await w.idle();
    return pods.pod!;
  }

  it('starts the sandbox and container and reports the pod Running and Ready, with upstream events', async () => {
    const w = worker({});
    w.wake();
    const pod = await settle(w);
    expect(pod.status?.phase).toBe('Running');
    const [app] = runtime.running('app');
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: true, started: true, restartCount: 0, containerID: `k8ts://${app!.id}`, imageID: 'sha256:k8ts/http-echo:1' });
    expect(pod.status?.podIP).toBe('10.1.0.9');
    expect(events).toEqual(['Normal Pulling Pulling image "k8ts/http-echo:1"', expect.stringMatching(/^Normal Pulled Successfully pulled image "k8ts\/http-echo:1" in \d+ms/), 'Normal Created Created container: app', 'Normal Started Started container app']);
    expect(app!.labels).toMatchObject({ 'io.kubernetes.pod.uid': 'u1', 'io.kubernetes.container.name': 'app' });
    w.update(pods.pod!);
    await w.idle();
    expect(metrics).toEqual(['started', 'create', 'update', 'update']); // pod start reported once, within the first sync
  });

  it('restarts a crashing container at once, then backs off 10 s (CrashLoopBackOff), then restarts it when the back-off ends', async () => {
    const w = worker({});
    w.wake();
    await settle(w);
    runtime.exit(runtime.running('app')[0]!.id, 1);
    let pod = await settle(w);
    expect(runtime.all('app').map((c) => c.attempt)).toEqual([0, 1]);
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } });
    runtime.exit(runtime.running('app')[0]!.id, 1);
    pod = await settle(w);
    expect(runtime.running('app')).toHaveLength(0);
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting).toEqual({ reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=p_ns(u1)' });
    expect(pod.status?.phase).toBe('Running');
    expect(events).toContain('Warning BackOff Back-off restarting failed container app in pod p_ns(u1)');
    clock.advance(10_000);
    pod = await settle(w);
    expect(runtime.running('app')).toHaveLength(1);
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ restartCount: 2, state: { running: {} } });
    expect(runtime.all('app').map((c) => c.attempt)).toEqual([1, 2]); // older instances are removed, the last state kept
  });

  it('an unknown image: ErrImagePull with an event naming it, then ImagePullBackOff until the back-off ends', async () => {
    const w = worker({ containers: [{ name: 'app', image: 'missing/image:1' }] });
    w.wake();
    await w.idle();
    expect(pods.pod?.status?.containerStatuses?.[0]?.state?.waiting).toEqual({ reason: 'ErrImagePull', message: 'image "missing/image:1" not found in the catalog' });
    expect(events).toContain('Warning Failed Failed to pull image "missing/image:1": image "missing/image:1" not found in the catalog');
    const pod = await settle(w);
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting).toEqual({ reason: 'ImagePullBackOff', message: 'Back-off pulling image "missing/image:1"' });
    expect(pod.status?.phase).toBe('Pending');
  });

  it('runs init containers one at a time, in order, before the regular containers', async () => {
    const w = worker({ initContainers: [{ name: 'init1', image: 'busybox:1' }, { name: 'init2', image: 'busybox:1' }] });
    w.wake();
    await settle(w);
    expect([runtime.running('init1').length, runtime.all('init2').length, runtime.all('app').length]).toEqual([1, 0, 0]);
    expect(pods.pod?.status?.phase).toBe('Pending');
    runtime.exit(runtime.running('init1')[0]!.id, 0);
    await settle(w);
    expect([runtime.running('init2').length, runtime.all('app').length]).toEqual([1, 0]);
    runtime.exit(runtime.running('init2')[0]!.id, 0);
    const pod = await settle(w);
    expect(runtime.running('app')).toHaveLength(1);
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
  });

  it('restartPolicy Never: a container that exits 0 is not restarted and the pod Succeeded', async () => {
    const w = worker({ restartPolicy: 'Never' });
    w.wake();
    await settle(w);
    runtime.exit(runtime.running('app')[0]!.id, 0);
    const pod = await settle(w);
    expect(runtime.all('app')).toHaveLength(1);
    expect(pod.status?.phase).toBe('Succeeded');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
  });

  it('a deleted pod: its containers stopped within its grace period, then the final delete with grace 0 and its uid', async () => {
    const w = worker({ terminationGracePeriodSeconds: 7 });
    w.wake();
    await settle(w);
    w.update({ ...pods.pod!, metadata: { ...pods.pod!.metadata, deletionTimestamp: '2026-01-01T00:00:10Z', deletionGracePeriodSeconds: 7 } });
    await w.idle();
    expect(runtime.stops).toEqual([{ id: expect.any(String), timeoutSeconds: 7 }]);
    expect(pods.deletes).toEqual([{ name: 'p', options: { gracePeriodSeconds: 0, preconditions: { uid: 'u1' } } }]);
    expect(runtime.containers.size + runtime.sandboxes.size).toBe(0);
    expect(events).toContain('Normal Killing Stopping container app');
  });

  it('sidecars (init containers with restartPolicy Always) start before the next init container and are restarted when they end', async () => {
    const w = worker({ initContainers: [{ name: 'side', image: 'busybox:1', restartPolicy: 'Always' }, { name: 'init', image: 'busybox:1' }] });
    w.wake();
    await settle(w);
    expect([runtime.running('side').length, runtime.running('init').length, runtime.all('app').length]).toEqual([1, 1, 0]);
    runtime.exit(runtime.running('init')[0]!.id, 0);
    let pod = await settle(w);
    expect([runtime.running('side').length, runtime.running('app').length]).toEqual([1, 1]);
    expect(pod.status?.phase).toBe('Running');
    runtime.exit(runtime.running('side')[0]!.id, 1);
    pod = await settle(w);
    expect(runtime.all('side').map((c) => c.attempt)).toEqual([0, 1]);
    expect(runtime.all('init')).toHaveLength(1); // init containers are not run again
    expect(pod.status?.initContainerStatuses?.find((s) => s.name === 'side')).toMatchObject({ restartCount: 1, state: { running: {} } });
  });

  it('a postStart hook runs once the container started; when it fails the container is killed and restarted', async () => {
    const w = worker({ containers: [{ name: 'app', image: 'busybox:1', lifecycle: { postStart: { exec: { command: ['touch', '/ready'] } } } }] });
    runtime.execExitCode = 1;
    w.wake();
    await w.idle();
    expect(runtime.execs[0]).toMatchObject({ command: 'touch /ready', when: 'running' });
    expect(events).toEqual(expect.arrayContaining(['Warning FailedPostStartHook PostStartHook failed', 'Normal Killing FailedPostStartHook']));
    expect(runtime.running('app')).toHaveLength(0);
    runtime.execExitCode = 0;
    await settle(w);
    expect(runtime.running('app')).toHaveLength(1);
    expect(runtime.all('app').map((c) => c.attempt)).toEqual([0, 1]);
  });

  it('a preStop hook runs before the container is signalled, within the grace period', async () => {
    const w = worker({ terminationGracePeriodSeconds: 20, containers: [{ name: 'app', image: 'busybox:1', lifecycle: { preStop: { exec: { command: ['sh', '-c', 'drain'] } } } }] });
    w.wake();
    await settle(w);
    w.update({ ...pods.pod!, metadata: { ...pods.pod!.metadata, deletionTimestamp: '2026-01-01T00:00:10Z', deletionGracePeriodSeconds: 20 } });
    await w.idle();
    expect(runtime.execs).toEqual([{ id: expect.any(String), command: 'sh -c drain', when: 'running' }]);
    expect(runtime.stops).toEqual([{ id: runtime.execs[0]!.id, timeoutSeconds: 20 }]);
    expect(pods.deletes).toHaveLength(1);
  });

  it('activeDeadlineSeconds: past it, the containers are stopped and the pod Failed with DeadlineExceeded', async () => {
    const w = worker({ activeDeadlineSeconds: 30 });
    w.wake();
    expect((await settle(w)).status?.phase).toBe('Running');
    clock.advance(30_000);
    await w.idle();
    expect(runtime.running('app')).toHaveLength(0);
    expect(pods.pod?.status).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    expect(events).toContain('Warning DeadlineExceeded Pod was active on the node longer than the specified deadline');
  });

  it('adopts what the runtime already runs for the pod instead of starting a second copy', async () => {
    const first = worker({});
    first.wake();
    await settle(first);
    const before = [...runtime.containers.keys()];
    const second = worker({}); // a new kubelet's worker for the same pod, over the same runtime
    second.wake();
    const pod = await settle(second);
    expect([...runtime.containers.keys()]).toEqual(before);
    expect(runtime.sandboxes.size).toBe(1);
    expect(pod.status?.phase).toBe('Running');
  });
});

describe('restart policies', () => {
  it('Always restarts every ended container, OnFailure the failed ones, Never none', () => {
    expect([shouldRestart('Always', 0), shouldRestart('Always', 1)]).toEqual([true, true]);
    expect([shouldRestart('OnFailure', 0), shouldRestart('OnFailure', 137)]).toEqual([false, true]);
    expect([shouldRestart('Never', 0), shouldRestart('Never', 1)]).toEqual([false, false]);
  });
});
