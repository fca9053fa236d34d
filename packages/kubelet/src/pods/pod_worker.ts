/**
 * One pod's worker, as the kubelet's podWorkers + SyncPod: syncs of one pod never overlap; each is
 * level-triggered (read the runtime's state of the pod, compare with the spec, act, write the status),
 * so it is safe to run at any time and as often as it is woken (informer events, container exits,
 * probe results, back-off timers). Woken while a sync runs, it runs once more afterwards.
 *
 * Lifecycle: running (sandbox, init containers in order, sidecars, regular containers, restarts by the
 * restart policy with CrashLoopBackOff) → terminal (the pod's phase is Succeeded/Failed: containers
 * stopped, nothing restarted) or terminating (deletionTimestamp set or the pod gone: preStop, SIGTERM,
 * grace, SIGKILL, then the final delete with grace 0 and the uid precondition) → done.
 */
import type { Clock, TimerHandle } from '@k8ts/base';
import { isConflict, isNotFound, type EventRecorder, type EventType, type KubeObject, type ResourceClient } from '@k8ts/client';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ANNOTATION_CONTAINER_HASH, ContainerConfigError, hashContainer, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../container/container_config.js';
import { RuntimeError, type ContainerConfig, type ContainerStatus, type PodSandboxConfig, type PodSandboxStatus, type Runtime } from '../runtime/runtime.js';
import type { KubeletMetricsSink } from '../node/metrics_sink.js';
import { VolumeSetUpError } from '../volumes/volume_manager.js';
import type { VolumeMounts } from '../volumes/volume_mounts.js';
import { podResolvConf, type PodDnsOptions } from '../dns/resolv_conf.js';
import { formatDuration, type Backoff } from './backoff.js';
import { hookKind, runHook } from './hooks.js';
import { pullImage } from './image_puller.js';
import { containerNameOf, podUidOf } from './labels.js';
import type { Limiter } from './limiter.js';
import { attemptsOf, computePodStatus, isSidecar, type ProbeView, type WaitingReason } from './pod_status.js';
import type { StatusManager } from './status_manager.js';
import { prepareMessageFile, readTerminationMessage } from './termination_message.js';

/** Seconds a container gets to stop at least, as upstream's minimumGracePeriodInSeconds. */
const MINIMUM_GRACE_SECONDS = 2;
/** How soon a sync that failed for a passing reason (config, mount, runtime) is tried again. */
const RETRY_MS = 10_000;

/** Where a pod's containers get their config and volumes (makeContainerConfig and the VolumeManager). */
export interface ContainerSetup {
  setUpVolumes(pod: Pod): Promise<VolumeMounts>;
  tearDownVolumes(podUid: string): Promise<void>;
  containerConfig(input: {
    readonly pod: Pod;
    readonly container: Container;
    readonly restartCount: number;
    readonly podIPs: readonly string[];
    readonly hostIPs: readonly string[];
    readonly logPath: string;
    readonly mounts: VolumeMounts;
  }): Promise<ContainerConfig>;
}

/** Probe results for the pod's running containers; the worker tells it which containers run. */
export interface PodProbes extends ProbeView {
  /** The containers now running (by spec); probes start for new ones and stop for the others. */
  track(pod: Pod, running: readonly { readonly container: Container; readonly containerId: string }[], podIP: string): void;
  /** Whether the container's liveness probe has failed (it must be restarted). */
  livenessFailed(containerId: string): string | undefined;
  /** Stops every probe of the pod. */
  stop(): void;
}

export interface PodWorkerContext {
  readonly runtime: Runtime;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly recorder: EventRecorder;
  readonly statuses: StatusManager;
  readonly pods: ResourceClient<Pod & KubeObject>;
  readonly limiter: Limiter;
  readonly crashBackoff: Backoff;
  readonly imageBackoff: Backoff;
  readonly rootDir: string;
  readonly dns?: PodDnsOptions;
  readonly setup: ContainerSetup;
  hostIPs(): readonly string[];
  probesFor(worker: PodWorker): PodProbes;
  /** The runtime containers of the pod were seen (so exits of them wake this worker). */
  containersSeen(uid: string, ids: readonly string[]): void;
  /** The worker is done (pod gone, everything stopped and removed). */
  finished(uid: string): void;
  readonly metrics?: KubeletMetricsSink;
}

export class PodWorker {
  private pod: Pod;
  private removed = false;
  private dirty = false;
  private running: Promise<void> | undefined;
  private timer: { handle: TimerHandle; dueMs: number } | undefined;
  private done = false;
  private readonly probes: PodProbes;
  /** Containers whose exit this worker has already read the termination message of. */
  private readonly messages = new Map<string, string>();
  private sandboxId: string | undefined;
  /** Container name → the id of its newest instance, as last observed (for locate()). */
  private latest = new Map<string, string>();
  /** When this kubelet first saw the pod, for kubelet_pod_start_duration_seconds (reported once). */
  private readonly firstSeenMs: number;
  private startReported = false;
  /** What the next sync is, for kubelet_pod_worker_duration_seconds{operation_type}. */
  private operation: 'create' | 'update' | 'sync' = 'create';

  constructor(
    pod: Pod,
    private readonly context: PodWorkerContext,
  ) {
    this.pod = pod;
    this.probes = context.probesFor(this);
    this.firstSeenMs = context.clock.now();
  }

  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  /** The newest copy of the pod (the API's, or the last one seen before it went). */
  get current(): Pod {
    return this.pod;
  }

  get currentSandboxId(): string | undefined {
    return this.sandboxId;
  }

  /** The newest instance of the container `name`, as last observed. */
  containerId(name: string): string | undefined {
    return this.latest.get(name);
  }

  /** A newer copy of the pod; `wake` false when only its status changed (the worker's own writes, mostly). */
  update(pod: Pod, wake = true): void {
    this.pod = pod;
    if (!wake) return;
    if (this.operation === 'sync') this.operation = 'update';
    this.wake();
  }

  /** The pod is gone from the API (deleted with no grace, or seen deleted): stop everything. */
  remove(): void {
    this.removed = true;
    this.wake();
  }

  wake(): void {
    if (this.done) return;
    this.dirty = true;
    this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  /** Resolves when no sync runs (for stop()). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** Stops the worker for good (the kubelet stops, or the pod is done): no more syncs, timers or probes. */
  halt(): void {
    this.done = true;
    this.timer?.handle.cancel();
    this.timer = undefined;
    this.probes.stop();
  }

  private async loop(): Promise<void> {
    while (this.dirty && !this.done) {
      this.dirty = false;
      try {
        await this.context.limiter.run(async () => {
          const operation = this.operation;
          this.operation = 'sync';
          const startMs = this.context.clock.now();
          await this.sync();
          this.context.metrics?.podWorkerDuration(operation, (this.context.clock.now() - startMs) / 1000);
        });
      } catch (error) {
        this.context.logger.error({ pod: this.key(), err: (error as Error).message }, 'pod sync failed; retrying');
        this.wakeIn(RETRY_MS);
      }
    }
  }

  /** Wakes the worker after `delayMs` (the earliest such wake wins). */
  private wakeIn(delayMs: number): void {
    if (this.done) return;
    const dueMs = this.context.clock.now() + delayMs;
    if (this.timer !== undefined && this.timer.dueMs <= dueMs) return;
    this.timer?.handle.cancel();
    const handle = this.context.clock.schedule(delayMs, () => {
      this.timer = undefined;
      this.wake();
    });
    this.timer = { handle, dueMs };
  }

  private key(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  /** `name_namespace(uid)`, as upstream names a pod in messages. */
  private fullName(): string {
    return `${this.pod.metadata?.name}_${this.pod.metadata?.namespace}(${this.uid})`;
  }

  private event(type: EventType, reason: string, message: string): void {
    this.context.recorder.event(this.pod as KubeObject, type, reason, message);
  }

  logDirectory(): string {
    const meta = this.pod.metadata ?? {};
    return join(this.context.rootDir, 'pods', `${meta.namespace}_${meta.name}_${meta.uid}`);
  }

  private messagePath(name: string, attempt: number): string {
    // Beside the pod's volumes (the VolumeManager's pods-data/<uid>), removed with them.
    return join(this.context.rootDir, 'pods-data', this.uid, 'containers', name, String(attempt), 'termination-log');
  }

  private async observe(): Promise<{ sandboxes: PodSandboxStatus[]; containers: ContainerStatus[] }> {
    const { runtime, clock } = this.context;
    const startMs = clock.now();
    const sandboxes = (await runtime.listPodSandboxes()).filter((sandbox) => sandbox.uid === this.uid);
    const containers = (await runtime.listContainers()).filter((container) => podUidOf(container) === this.uid);
    this.context.metrics?.relistDuration((clock.now() - startMs) / 1000);
    this.context.containersSeen(
      this.uid,
      containers.map((container) => container.id),
    );
    const latest = new Map<string, string>();
    for (const name of new Set(containers.map(containerNameOf))) latest.set(name, attemptsOf(containers, name)[0]!.id);
    this.latest = latest;
    return { sandboxes, containers };
  }

  private async sync(): Promise<void> {
    const pod = this.pod;
    let { sandboxes, containers } = await this.observe();
    if (this.removed || pod.metadata?.deletionTimestamp) return this.terminate(sandboxes, containers);
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return this.finishTerminal(sandboxes, containers);
    if (this.pastActiveDeadline()) return this.failPastDeadline(sandboxes, containers);

    const waiting = new Map<string, WaitingReason>();
    const sandbox = await this.ensureSandbox(sandboxes, containers);
    if (sandbox !== undefined) {
      const mounts = await this.setUpVolumes();
      if (mounts !== undefined) await this.syncContainers(sandbox, containers, mounts, waiting);
      ({ sandboxes, containers } = await this.observe());
    }
    const current = sandboxes.find((candidate) => candidate.id === this.sandboxId);
    this.trackProbes(containers, current);
    let terminal = this.nothingLeftToRun(containers, waiting);
    if (terminal) {
      await this.stopAll(containers, 'Completed', this.gracePeriodSeconds());
      for (const candidate of sandboxes) await this.context.runtime.stopPodSandbox(candidate.id);
      ({ sandboxes, containers } = await this.observe());
      terminal = true;
    }
    await this.readMessages(containers);
    await this.writeStatus(sandboxes, containers, waiting, terminal);
    this.reportStarted(containers);
    await this.removeOldInstances(containers);
  }

  /**
   * Keeps each container's two newest instances (the current one and the last state, whose log
   * `--previous` reads) and removes older ended ones, as the kubelet's container GC does.
   */
  private async removeOldInstances(containers: readonly ContainerStatus[]): Promise<void> {
    for (const name of new Set(containers.map(containerNameOf))) {
      for (const old of attemptsOf(containers, name).slice(2)) {
        if (old.state !== 'exited' && old.state !== 'unknown') continue;
        await this.context.runtime.removeContainer(old.id).catch(ignoreNotFoundRuntime);
        this.messages.delete(old.id);
      }
    }
  }

  /** kubelet_pod_start_duration_seconds: first seen → every regular container running, once. */
  private reportStarted(containers: readonly ContainerStatus[]): void {
    if (this.startReported) return;
    const names = (this.pod.spec?.containers ?? []).map((container) => container.name);
    const running = new Set(containers.filter((c) => c.state === 'running' && c.sandboxId === this.sandboxId).map(containerNameOf));
    if (names.length === 0 || !names.every((name) => running.has(name))) return;
    this.startReported = true;
    this.context.metrics?.podStarted((this.context.clock.now() - this.firstSeenMs) / 1000);
  }

  // --- sandbox and volumes -------------------------------------------------------------------

  private async ensureSandbox(sandboxes: PodSandboxStatus[], containers: ContainerStatus[]): Promise<PodSandboxStatus | undefined> {
    const ready = sandboxes.filter((sandbox) => sandbox.state === 'ready').sort((a, b) => b.attempt - a.attempt)[0];
    if (ready !== undefined) {
      this.sandboxId = ready.id;
      return ready;
    }
    // A new sandbox (the first, or the old one died): what ran in an old one is stopped first.
    const leftovers = containers.filter((container) => container.state === 'running');
    if (leftovers.length > 0) await this.stopAll(leftovers, 'SandboxChanged', MINIMUM_GRACE_SECONDS);
    for (const old of sandboxes) await this.context.runtime.stopPodSandbox(old.id);
    const attempt = sandboxes.reduce((max, sandbox) => Math.max(max, sandbox.attempt + 1), 0);
    if (attempt > 0) this.event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
    try {
      const id = await this.context.runtime.runPodSandbox(this.sandboxConfig(attempt));
      this.sandboxId = id;
      return await this.context.runtime.podSandboxStatus(id);
    } catch (error) {
      const message = (error as Error).message;
      this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${message}`);
      this.wakeIn(RETRY_MS);
      return undefined;
    }
  }

  private sandboxConfig(attempt: number): PodSandboxConfig {
    const meta = this.pod.metadata ?? {};
    const spec = this.pod.spec ?? { containers: [] };
    const ports = this.allContainers().flatMap((container) => container.ports ?? []);
    return {
      uid: meta.uid ?? '',
      name: meta.name ?? '',
      namespace: meta.namespace ?? '',
      attempt,
      hostname: spec.hostname ?? meta.name ?? '',
      ...(spec.subdomain ? { subdomain: spec.subdomain } : {}),
      hostNetwork: spec.hostNetwork === true,
      logDirectory: this.logDirectory(),
      ...(this.context.dns !== undefined ? { dnsConfig: podResolvConf(this.pod, this.context.dns) } : {}),
      portMappings: ports.map((port) => ({
        protocol: (port.protocol ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP',
        containerPort: port.containerPort,
        ...(port.hostPort !== undefined ? { hostPort: port.hostPort } : {}),
        ...(port.hostIP !== undefined ? { hostIP: port.hostIP } : {}),
      })),
      labels: { ...(meta.labels ?? {}), [LABEL_POD_UID]: meta.uid ?? '', [LABEL_POD_NAME]: meta.name ?? '', [LABEL_POD_NAMESPACE]: meta.namespace ?? '' },
      annotations: { ...(meta.annotations ?? {}) },
    };
  }

  private async setUpVolumes(): Promise<VolumeMounts | undefined> {
    try {
      return await this.context.setup.setUpVolumes(this.pod);
    } catch (error) {
      // Containers stay ContainerCreating (PodInitializing) until the volumes are there.
      if (error instanceof VolumeSetUpError) for (const failure of error.failures) this.event('Warning', 'FailedMount', failure.message);
      else this.event('Warning', 'FailedMount', `MountVolume.SetUp failed: ${(error as Error).message}`);
      this.wakeIn(RETRY_MS);
      return undefined;
    }
  }

  private allContainers(): Container[] {
    return [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])];
  }

  // --- containers ----------------------------------------------------------------------------

  private async syncContainers(sandbox: PodSandboxStatus, containers: ContainerStatus[], mounts: VolumeMounts, waiting: Map<string, WaitingReason>): Promise<void> {
    const spec = this.pod.spec ?? { containers: [] };
    const inSandbox = containers.filter((container) => container.sandboxId === sandbox.id);
    // Once a regular container has run in this sandbox, init containers are not run again.
    const regularStarted = spec.containers.some((container) => attemptsOf(inSandbox, container.name).length > 0);
    let initDone = true;
    for (const container of spec.initContainers ?? []) {
      const latest = attemptsOf(inSandbox, container.name)[0];
      if (isSidecar(container)) {
        if (latest?.state === 'running') {
          if (await this.restartIfUnhealthy(sandbox, container, latest, containers, mounts, waiting)) continue;
          if (!regularStarted && !this.probes.started(container, latest.id)) {
            initDone = false;
            break;
          }
          continue;
        }
        const started = await this.startOrBackOff(sandbox, container, containers, latest, mounts, waiting);
        if (!regularStarted && (!started || container.startupProbe !== undefined)) {
          initDone = false;
          break;
        }
        continue;
      }
      if (regularStarted) continue;
      if (latest?.state === 'exited' && latest.exitCode === 0) continue;
      initDone = false;
      if (latest?.state === 'running' || latest?.state === 'created') break;
      if (latest !== undefined && (spec.restartPolicy ?? 'Always') === 'Never') break; // the pod has failed
      await this.startOrBackOff(sandbox, container, containers, latest, mounts, waiting);
      break;
    }
    if (!initDone) return;
    const restartPolicy = spec.restartPolicy ?? 'Always';
    for (const container of spec.containers) {
      const latest = attemptsOf(inSandbox, container.name)[0];
      if (latest?.state === 'running') {
        await this.restartIfUnhealthy(sandbox, container, latest, containers, mounts, waiting);
        continue;
      }
      if (latest !== undefined && latest.state !== 'created' && !shouldRestart(restartPolicy, latest.exitCode)) continue;
      await this.startOrBackOff(sandbox, container, containers, latest, mounts, waiting);
    }
  }

  /** A running container whose liveness probe failed or whose spec changed is stopped and started again. */
  private async restartIfUnhealthy(
    sandbox: PodSandboxStatus,
    container: Container,
    latest: ContainerStatus,
    containers: ContainerStatus[],
    mounts: VolumeMounts,
    waiting: Map<string, WaitingReason>,
  ): Promise<boolean> {
    const failure = this.probes.livenessFailed(latest.id);
    const hash = latest.annotations[ANNOTATION_CONTAINER_HASH];
    const changed = hash !== undefined && hash !== hashContainer(container);
    if (failure === undefined && !changed) return false;
    const message = changed ? `Container ${container.name} definition changed, will be restarted` : failure!;
    await this.stopContainer(latest, container, message, this.gracePeriodSeconds());
    const restartPolicy = isSidecar(container) ? 'Always' : (this.pod.spec?.restartPolicy ?? 'Always');
    if (!changed && restartPolicy === 'Never') return true;
    const stopped = await this.context.runtime.containerStatus(latest.id).catch(() => latest);
    await this.startOrBackOff(sandbox, container, [...containers.filter((c) => c.id !== latest.id), stopped], changed ? undefined : stopped, mounts, waiting);
    return true;
  }

  /**
   * Starts `container` (its first instance, or again after `latest` ended) unless its back-off says
   * wait, in which case its waiting reason says so and a timer wakes the worker when it may go.
   * Resolves true when it started.
   */
  private async startOrBackOff(
    sandbox: PodSandboxStatus,
    container: Container,
    containers: ContainerStatus[],
    latest: ContainerStatus | undefined,
    mounts: VolumeMounts,
    waiting: Map<string, WaitingReason>,
  ): Promise<boolean> {
    const { crashBackoff, runtime } = this.context;
    const backoffKey = `${this.uid}/${container.name}`;
    if (latest !== undefined && latest.state !== 'created') {
      const finishedMs = (latest.finishedAt ?? latest.createdAt).getTime();
      const remaining = crashBackoff.remainingMs(backoffKey, finishedMs);
      if (remaining > 0) {
        const delay = formatDuration(crashBackoff.delayMs(backoffKey));
        waiting.set(container.name, { reason: 'CrashLoopBackOff', message: `back-off ${delay} restarting failed container=${container.name} pod=${this.fullName()}` });
        this.event('Warning', 'BackOff', `Back-off restarting failed container ${container.name} in pod ${this.fullName()}`);
        this.wakeIn(remaining);
        return false;
      }
      crashBackoff.next(backoffKey, finishedMs);
    }
    if (latest?.state === 'created') await runtime.removeContainer(latest.id).catch(() => undefined);
    if (!(await this.pullImage(container, waiting))) return false;

    const attempt = attemptsOf(containers, container.name).reduce((max, instance) => Math.max(max, instance.attempt + 1), 0);
    const logPath = join(this.logDirectory(), container.name, `${attempt}.log`);
    let config: ContainerConfig;
    try {
      config = await this.context.setup.containerConfig({
        pod: this.pod,
        container,
        restartCount: attempt,
        podIPs: this.pod.spec?.hostNetwork ? this.context.hostIPs() : sandbox.ips,
        hostIPs: this.context.hostIPs(),
        logPath,
        mounts,
      });
    } catch (error) {
      if (!(error instanceof ContainerConfigError)) throw error;
      waiting.set(container.name, { reason: error.reason, message: error.message });
      this.event('Warning', 'Failed', `Error: ${error.message}`);
      this.wakeIn(RETRY_MS);
      return false;
    }
    const messagePath = this.messagePath(container.name, attempt);
    await prepareMessageFile(messagePath);
    const mountsWithMessage = [...config.mounts, { hostPath: messagePath, containerPath: container.terminationMessagePath ?? '/dev/termination-log', readOnly: false }];
    let id: string;
    try {
      id = await runtime.createContainer(sandbox.id, { ...config, mounts: mountsWithMessage });
    } catch (error) {
      return this.failedToRun(container, 'CreateContainerError', error, waiting);
    }
    this.event('Normal', 'Created', `Created container: ${container.name}`);
    try {
      await runtime.startContainer(id);
    } catch (error) {
      return this.failedToRun(container, 'RunContainerError', error, waiting);
    }
    this.event('Normal', 'Started', `Started container ${container.name}`);
    const postStart = container.lifecycle?.postStart;
    if (postStart !== undefined) {
      const failure = await runHook(postStart, { ...this.hookContext(id, container, sandbox), timeoutSeconds: this.gracePeriodSeconds() });
      if (failure !== undefined) {
        // As upstream: the hook's output stays out of the event (it may hold secrets); the log has it.
        this.context.logger.warn({ pod: this.key(), container: container.name, hook: hookKind(postStart), err: failure }, 'postStart hook failed');
        this.event('Warning', 'FailedPostStartHook', 'PostStartHook failed');
        const status = await runtime.containerStatus(id);
        await this.stopContainer(status, container, 'FailedPostStartHook', this.gracePeriodSeconds());
        return false;
      }
    }
    return true;
  }

  private failedToRun(container: Container, reason: string, error: unknown, waiting: Map<string, WaitingReason>): false {
    if (!(error instanceof RuntimeError)) throw error;
    waiting.set(container.name, { reason, message: error.message });
    this.event('Warning', 'Failed', `Error: ${error.message}`);
    this.wakeIn(RETRY_MS);
    return false;
  }

  /** Pulls the container's image as its pull policy says; false (with the waiting reason set) when it cannot. */
  private async pullImage(container: Container, waiting: Map<string, WaitingReason>): Promise<boolean> {
    const { runtime, imageBackoff, clock } = this.context;
    const result = await pullImage({ runtime, backoff: imageBackoff, clock, podUid: this.uid, container, event: (type, reason, message) => this.event(type, reason, message) });
    if (result.ok) return true;
    waiting.set(container.name, result.waiting);
    if (result.retryInMs !== undefined) this.wakeIn(result.retryInMs);
    return false;
  }

  private hookContext(containerId: string, container: Container, sandbox: PodSandboxStatus | undefined) {
    const podIP = this.pod.spec?.hostNetwork ? (this.context.hostIPs()[0] ?? '') : (sandbox?.ips[0] ?? '');
    return { runtime: this.context.runtime, clock: this.context.clock, containerId, container, podIP };
  }

  /** preStop (if any, within the grace period), then the runtime's SIGTERM → grace → SIGKILL. */
  private async stopContainer(status: ContainerStatus, container: Container | undefined, message: string, graceSeconds: number): Promise<void> {
    const { runtime, clock } = this.context;
    if (status.state !== 'running' && status.state !== 'created') return;
    this.event('Normal', 'Killing', message);
    const startMs = clock.now();
    const preStop = container?.lifecycle?.preStop;
    if (preStop !== undefined && status.state === 'running') {
      const sandbox = this.sandboxId === undefined ? undefined : await runtime.podSandboxStatus(this.sandboxId).catch(() => undefined);
      const failure = await runHook(preStop, { ...this.hookContext(status.id, container!, sandbox), timeoutSeconds: graceSeconds });
      if (failure !== undefined) {
        this.context.logger.warn({ pod: this.key(), container: status.name, hook: hookKind(preStop), err: failure }, 'preStop hook failed');
        this.event('Warning', 'FailedPreStopHook', 'PreStopHook failed');
      }
    }
    const left = graceSeconds - Math.floor((clock.now() - startMs) / 1000);
    await runtime.stopContainer(status.id, Math.max(MINIMUM_GRACE_SECONDS, left));
  }

  /** Stops every running container: regular ones first, then sidecars (in reverse order), as upstream. */
  private async stopAll(containers: readonly ContainerStatus[], why: string, graceSeconds: number): Promise<void> {
    const specs = new Map(this.allContainers().map((container) => [container.name, container]));
    const live = containers.filter((container) => container.state === 'running' || container.state === 'created');
    const isSide = (status: ContainerStatus): boolean => {
      const spec = specs.get(status.name);
      return spec !== undefined && isSidecar(spec) && (this.pod.spec?.initContainers ?? []).includes(spec);
    };
    const message = (status: ContainerStatus): string => (why === 'Completed' || why === 'SandboxChanged' ? `Stopping container ${status.name}` : why);
    const deadline = this.context.clock.now() + graceSeconds * 1000;
    await Promise.all(live.filter((status) => !isSide(status)).map((status) => this.stopContainer(status, specs.get(status.name), message(status), graceSeconds)));
    const left = Math.max(MINIMUM_GRACE_SECONDS, Math.ceil((deadline - this.context.clock.now()) / 1000));
    for (const status of live.filter(isSide).reverse()) await this.stopContainer(status, specs.get(status.name), message(status), left);
  }

  private gracePeriodSeconds(): number {
    return this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
  }

  /**
   * Whether the pod has run to its end: every regular container has ended and its restart policy
   * restarts none (or an init container failed under Never). Sidecars do not keep a pod alive.
   */
  private nothingLeftToRun(containers: readonly ContainerStatus[], waiting: ReadonlyMap<string, WaitingReason>): boolean {
    const spec = this.pod.spec ?? { containers: [] };
    const restartPolicy = spec.restartPolicy ?? 'Always';
    if (restartPolicy === 'Always') return false;
    const inSandbox = containers.filter((container) => container.sandboxId === this.sandboxId);
    if (restartPolicy === 'Never') {
      const failedInit = (spec.initContainers ?? []).some((container) => {
        const latest = attemptsOf(inSandbox, container.name)[0];
        return !isSidecar(container) && latest !== undefined && (latest.state === 'exited' || latest.state === 'unknown') && latest.exitCode !== 0;
      });
      if (failedInit) return true;
    }
    return spec.containers.every((container) => {
      const latest = attemptsOf(inSandbox, container.name)[0];
      if (latest === undefined || waiting.has(container.name)) return false;
      if (latest.state !== 'exited' && latest.state !== 'unknown') return false;
      return !shouldRestart(restartPolicy, latest.exitCode);
    });
  }

  private trackProbes(containers: readonly ContainerStatus[], sandbox: PodSandboxStatus | undefined): void {
    const specs = new Map(this.allContainers().map((container) => [container.name, container]));
    const running = containers
      .filter((status) => status.state === 'running' && status.sandboxId === this.sandboxId && specs.has(status.name))
      .map((status) => ({ container: specs.get(status.name)!, containerId: status.id }));
    const podIP = this.pod.spec?.hostNetwork ? (this.context.hostIPs()[0] ?? '') : (sandbox?.ips[0] ?? '');
    this.probes.track(this.pod, running, podIP);
  }

  private async readMessages(containers: readonly ContainerStatus[]): Promise<void> {
    const specs = new Map(this.allContainers().map((container) => [container.name, container]));
    for (const status of containers) {
      if ((status.state !== 'exited' && status.state !== 'unknown') || this.messages.has(status.id)) continue;
      const spec = specs.get(status.name);
      const message = await readTerminationMessage({
        messagePath: this.messagePath(status.name, status.attempt),
        logPath: status.logPath,
        policy: spec?.terminationMessagePolicy,
        exitCode: status.exitCode,
        reason: status.reason,
      });
      this.messages.set(status.id, message);
    }
  }

  private async writeStatus(
    sandboxes: readonly PodSandboxStatus[],
    containers: readonly ContainerStatus[],
    waiting: ReadonlyMap<string, WaitingReason>,
    terminal: boolean,
    failed?: { readonly reason: string; readonly message: string },
  ): Promise<void> {
    const sandbox = sandboxes.find((candidate) => candidate.id === this.sandboxId) ?? [...sandboxes].sort((a, b) => b.attempt - a.attempt)[0];
    const messages = new Map([...this.messages].filter(([, message]) => message !== ''));
    const status = computePodStatus({
      pod: this.pod,
      sandbox,
      containers,
      waiting,
      terminationMessages: messages,
      probes: this.probes,
      hostIPs: this.context.hostIPs(),
      nowMs: this.context.clock.now(),
      terminal,
    });
    if (failed !== undefined) Object.assign(status, { phase: 'Failed', ...failed });
    const written = await this.context.statuses.setStatus(this.pod, status);
    if (written !== undefined && written.metadata?.uid === this.uid) this.pod = newer(this.pod, written);
  }

  // --- terminal and terminating --------------------------------------------------------------

  /** Whether the pod has run longer than its activeDeadlineSeconds (else a wake is set for when it will). */
  private pastActiveDeadline(): boolean {
    const seconds = this.pod.spec?.activeDeadlineSeconds;
    const startMs = Date.parse(this.pod.status?.startTime ?? '');
    if (seconds === undefined || Number.isNaN(startMs)) return false;
    const left = startMs + seconds * 1000 - this.context.clock.now();
    if (left > 0) this.wakeIn(left);
    return left <= 0;
  }

  /** activeDeadlineSeconds passed: everything is stopped and the pod Failed with DeadlineExceeded, as upstream. */
  private async failPastDeadline(sandboxes: PodSandboxStatus[], containers: ContainerStatus[]): Promise<void> {
    const message = 'Pod was active on the node longer than the specified deadline';
    this.event('Warning', 'DeadlineExceeded', message);
    this.probes.stop();
    await this.stopAll(containers, 'Completed', this.gracePeriodSeconds());
    for (const sandbox of sandboxes) await this.context.runtime.stopPodSandbox(sandbox.id);
    const observed = await this.observe();
    await this.readMessages(observed.containers);
    await this.writeStatus(observed.sandboxes, observed.containers, new Map(), true, { reason: 'DeadlineExceeded', message });
  }

  /** A pod in a terminal phase runs nothing: whatever still runs is stopped, its sandbox too. */
  private async finishTerminal(sandboxes: PodSandboxStatus[], containers: ContainerStatus[]): Promise<void> {
    this.probes.stop();
    const live = containers.filter((container) => container.state === 'running' || container.state === 'created');
    if (live.length > 0) await this.stopAll(live, 'Completed', this.gracePeriodSeconds());
    for (const sandbox of sandboxes.filter((candidate) => candidate.state === 'ready')) await this.context.runtime.stopPodSandbox(sandbox.id);
    if (live.length > 0) {
      const observed = await this.observe();
      await this.readMessages(observed.containers);
      await this.writeStatus(observed.sandboxes, observed.containers, new Map(), true);
    }
  }

  /**
   * The pod is being deleted (or is gone): preStop hooks and SIGTERM within the grace period, then
   * the sandbox, volumes and the runtime's records; the last status; then the final delete.
   */
  private async terminate(sandboxes: PodSandboxStatus[], containers: ContainerStatus[]): Promise<void> {
    this.probes.stop();
    const grace = this.removed ? Math.min(this.gracePeriodSeconds(), MINIMUM_GRACE_SECONDS) : this.gracePeriodSeconds();
    await this.stopAll(containers, 'Completed', grace);
    for (const sandbox of sandboxes) await this.context.runtime.stopPodSandbox(sandbox.id);
    if (!this.removed) {
      const observed = await this.observe();
      await this.readMessages(observed.containers);
      await this.writeStatus(observed.sandboxes, observed.containers, new Map(), true);
    }
    await this.context.setup.tearDownVolumes(this.uid);
    if (!this.removed) await this.finalDelete();
    await this.removeFromRuntime();
    this.halt();
    this.context.crashBackoff.forget(`${this.uid}/`);
    this.context.imageBackoff.forget(`${this.uid}/`);
    this.context.statuses.forget(this.uid);
    this.context.finished(this.uid);
  }

  private async finalDelete(): Promise<void> {
    const meta = this.pod.metadata ?? {};
    try {
      await this.context.pods.namespace(meta.namespace ?? '').delete(meta.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: this.uid } });
      this.context.logger.info({ pod: this.key(), uid: this.uid }, 'pod deleted');
    } catch (error) {
      // Gone already, or a new pod of the same name (the uid precondition failed): nothing of ours to delete.
      if (!isNotFound(error) && !isConflict(error)) throw error;
    }
  }

  private async removeFromRuntime(): Promise<void> {
    const { runtime } = this.context;
    const { sandboxes, containers } = await this.observe();
    for (const container of containers) await runtime.removeContainer(container.id).catch(ignoreNotFoundRuntime);
    for (const sandbox of sandboxes) await runtime.removePodSandbox(sandbox.id).catch(ignoreNotFoundRuntime);
  }
}

function ignoreNotFoundRuntime(error: unknown): void {
  if (error instanceof RuntimeError && error.code === 'NotFound') return;
  throw error;
}

/** Whether a container that ended with `exitCode` is started again under `restartPolicy`. */
export function shouldRestart(restartPolicy: string, exitCode: number | undefined): boolean {
  if (restartPolicy === 'Always') return true;
  if (restartPolicy === 'OnFailure') return exitCode !== 0;
  return false;
}

/** The newer of two copies of one pod, by resourceVersion (numeric in k8ts, as etcd revisions). */
function newer(a: Pod, b: Pod): Pod {
  const version = (pod: Pod): number => Number(pod.metadata?.resourceVersion ?? 0);
  return version(b) >= version(a) ? b : a;
}
