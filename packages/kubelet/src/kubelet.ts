/**
 * The kubelet's pod half: it watches the pods bound to its node (field selector spec.nodeName),
 * admits each new one against the node (OutOfcpu, OutOfmemory, OutOfpods, NodePorts, …), and gives
 * every pod a worker (pods/pod_worker.ts) that runs it through the Runtime and writes its status.
 *
 * Contract:
 * - A pod runs at most once per node: workers read the runtime's state before acting, and a kubelet
 *   started again over the same runtime adopts what it finds (sandboxes by pod uid, containers by
 *   their labels) instead of starting copies. What belongs to no pod bound here is stopped and removed
 *   once the pod cache has synced (and by the periodic housekeeping).
 * - Workers are woken by pod changes, container exits, probe results, back-off timers and a periodic
 *   resync; at most `maxParallelSyncs` pods sync at once.
 * - stop() stops watching and syncing but leaves containers running (the next start adopts them).
 */
import { every, realClock, type Clock } from '@k8ts/base';
import { ApiClient, isNotFound, SharedInformerFactory, type EventRecorder, type KubeObject, type ResourceClient, type SharedInformer } from '@k8ts/client';
import type { ConfigMap, Node, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import type { PodDnsOptions } from './dns/resolv_conf.js';
import { makeContainerConfig } from './container/container_config.js';
import type { ObjectLookup } from './container/object_lookup.js';
import { admitPod, type AdmitResult } from './node/admission.js';
import type { KubeletMetricsSink } from './node/metrics_sink.js';
import { Backoff } from './pods/backoff.js';
import { podUidOf } from './pods/labels.js';
import { Limiter } from './pods/limiter.js';
import { PodWorker, type ContainerSetup, type PodProbes } from './pods/pod_worker.js';
import { PodProbeSet } from './probes/pod_probes.js';
import { StatusManager } from './pods/status_manager.js';
import { RuntimeError, type Runtime } from './runtime/runtime.js';
import { VolumeManager } from './volumes/volume_manager.js';

export interface KubeletOptions {
  readonly nodeName: string;
  readonly client: ApiClient;
  readonly runtime: Runtime;
  /** Pods' data and logs: logs under `<rootDir>/pods/<namespace>_<name>_<uid>/<container>/<restart>.log`. */
  readonly rootDir: string;
  readonly clock?: Clock;
  readonly logger: Logger;
  /** Events of component `kubelet`. */
  readonly recorder: EventRecorder;
  /** The registered Node (H3's registration), for admission and the host IPs. */
  readonly node: () => Node | undefined;
  /** Pods share the node's address (no pod network namespaces): a container port is a host port for admission. */
  readonly podsShareNodeNetwork?: boolean;
  /** Pods synced at once at most (default 20). */
  readonly maxParallelSyncs?: number;
  /** Every pod is synced again this often, besides the events that wake it (default 10 s). */
  readonly resyncPeriodMs?: number;
  /** Probe results per pod (tests); default: the pod's PodProbeSet (liveness, readiness and startup workers). */
  readonly probes?: (pod: Pod, wake: () => void) => PodProbes;
  /** kubelet_pod_start_duration_seconds, kubelet_pod_worker_duration_seconds, kubelet_pleg_relist_duration_seconds. */
  readonly metrics?: KubeletMetricsSink;
  /**
   * --cluster-dns, --cluster-domain and the text of --resolv-conf: each pod's resolv.conf follows
   * from them and its dnsPolicy. Without them the runtime gives pods no resolv.conf of their own.
   */
  readonly dns?: PodDnsOptions;
  /** Overrides the admission rule (tests); default admitPod. */
  readonly admit?: (pod: Pod, node: Node, activePods: readonly Pod[]) => AdmitResult;
}

/** Where a pod's containers are on this node, for logs, exec, attach and port-forward. */
export interface LocatedPod {
  readonly podUid: string;
  readonly sandboxId?: string;
  readonly containerId?: string;
  readonly logDirectory: string;
}

type PodObject = Pod & KubeObject;

const DEFAULT_RESYNC_MS = 10_000;
const ADMISSION_RETRY_MS = 1_000;

export class Kubelet {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly factory: SharedInformerFactory;
  private readonly podInformer: SharedInformer<PodObject>;
  private readonly serviceInformer: SharedInformer<Service & KubeObject>;
  private readonly pods: ResourceClient<PodObject>;
  private readonly statuses: StatusManager;
  private readonly limiter: Limiter;
  private readonly crashBackoff: Backoff;
  private readonly imageBackoff: Backoff;
  private readonly volumes: VolumeManager;
  private readonly setup: ContainerSetup;
  private readonly lookup: ObjectLookup;
  private readonly workers = new Map<string, PodWorker>();
  /** Runtime container id → pod uid, so an exit wakes the right worker. */
  private readonly containerOwners = new Map<string, string>();
  /** Pod uid → its containers' ids as last seen (to forget the removed ones). */
  private readonly podContainers = new Map<string, readonly string[]>();
  /** Pods whose sandbox the runtime held when this kubelet started: admitted before, not again. */
  private readonly adopted = new Set<string>();
  /** Pods waiting for admission, in arrival order (admission is serial, as upstream's). */
  private readonly admissionQueue = new Map<string, PodObject>();
  private admitting: Promise<void> | undefined;
  private housekeepingPass: Promise<void> | undefined;
  private readonly stopTimers: (() => void)[] = [];
  private stopped = false;

  constructor(private readonly options: KubeletOptions) {
    this.clock = options.clock ?? realClock;
    this.logger = options.logger.child({ component: 'kubelet', node: options.nodeName });
    this.factory = new SharedInformerFactory(options.client, { logger: this.logger, clock: this.clock });
    this.podInformer = this.factory.informerFor<PodObject>('', 'v1', 'pods', { fieldSelector: `spec.nodeName=${options.nodeName}` });
    this.serviceInformer = this.factory.informerFor<Service & KubeObject>('', 'v1', 'services');
    this.pods = options.client.resource<PodObject>('', 'v1', 'pods');
    this.statuses = new StatusManager(this.pods, this.logger);
    this.limiter = new Limiter(options.maxParallelSyncs ?? 20);
    this.crashBackoff = new Backoff(this.clock);
    this.imageBackoff = new Backoff(this.clock);
    this.lookup = this.objectLookup();
    this.volumes = new VolumeManager({ rootDir: options.rootDir, lookup: this.lookup, nodeAllocatable: () => this.options.node()?.status?.allocatable });
    this.setup = {
      setUpVolumes: (pod) => this.volumes.setUp(pod),
      tearDownVolumes: (uid) => this.volumes.tearDown(uid),
      containerConfig: (input) => {
        const node = this.options.node();
        return makeContainerConfig({
          ...input,
          hostIP: input.hostIPs[0] ?? '',
          nodeName: this.options.nodeName,
          lookup: this.lookup,
          ...(node?.status?.allocatable ? { nodeAllocatable: node.status.allocatable } : {}),
          warn: (reason, message) => this.options.recorder.event(input.pod as KubeObject, 'Warning', reason, message),
        });
      },
    };
  }

  async start(): Promise<void> {
    const { runtime } = this.options;
    for (const sandbox of await runtime.listPodSandboxes()) this.adopted.add(sandbox.uid);
    for (const container of await runtime.listContainers()) {
      const uid = podUidOf(container);
      if (uid !== undefined) this.adopted.add(uid);
    }
    runtime.onContainerExit((containerId) => {
      if (this.stopped) return;
      const uid = this.containerOwners.get(containerId);
      if (uid !== undefined) this.workers.get(uid)?.wake();
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.podChanged(pod),
      onUpdate: (old, pod) => this.podChanged(pod, old),
      onDelete: (pod) => this.podGone(pod),
    });
    this.factory.start();
    await this.factory.waitForCacheSync();
    this.logger.info({ adopted: this.adopted.size, pods: this.podInformer.indexer.list().length }, 'kubelet started');
    await this.housekeeping();
    const resync = this.options.resyncPeriodMs ?? DEFAULT_RESYNC_MS;
    this.stopTimers.push(
      every(this.clock, resync, () => {
        for (const worker of this.workers.values()) worker.wake();
        this.housekeeping().catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'housekeeping failed'));
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const stop of this.stopTimers.splice(0)) stop();
    await this.factory.stop();
    for (const worker of this.workers.values()) worker.halt();
    await Promise.all([...this.workers.values()].map((worker) => worker.idle()));
    await this.admitting;
    await this.housekeepingPass?.catch(() => undefined);
  }

  /** Where a pod (and one of its containers: by default the first, or kubectl's default-container annotation) is. */
  locate(namespace: string, name: string, container?: string): LocatedPod | undefined {
    const worker = [...this.workers.values()].find((candidate) => candidate.current.metadata?.namespace === namespace && candidate.current.metadata?.name === name);
    if (worker === undefined) return undefined;
    const pod = worker.current;
    const chosen = container ?? pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'] ?? pod.spec?.containers[0]?.name;
    const containerId = chosen === undefined ? undefined : worker.containerId(chosen);
    const sandboxId = worker.currentSandboxId;
    return { podUid: worker.uid, logDirectory: worker.logDirectory(), ...(sandboxId ? { sandboxId } : {}), ...(containerId ? { containerId } : {}) };
  }

  /** The pods this kubelet has a worker for: admitted and not yet removed (ended ones too, until deleted). */
  runningPods(): Pod[] {
    return [...this.workers.values()].map((worker) => worker.current);
  }

  // --- pods ------------------------------------------------------------------------------------

  private podChanged(pod: PodObject, old?: PodObject): void {
    if (this.stopped) return;
    const uid = pod.metadata?.uid ?? '';
    const worker = this.workers.get(uid);
    if (worker !== undefined) return worker.update(pod, old === undefined || old === pod || needsSync(old, pod));
    if (this.admissionQueue.has(uid)) {
      this.admissionQueue.set(uid, pod);
      return;
    }
    const phase = pod.status?.phase;
    // Pods that ended, are being deleted or ran here before this start need no admission.
    if (phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp || this.adopted.has(uid)) return this.startWorker(pod);
    this.admissionQueue.set(uid, pod);
    this.admitting ??= this.admitQueued().finally(() => (this.admitting = undefined));
  }

  private podGone(pod: PodObject): void {
    const uid = pod.metadata?.uid ?? '';
    this.admissionQueue.delete(uid);
    const worker = this.workers.get(uid);
    if (worker !== undefined) worker.remove();
    else this.housekeeping().catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'housekeeping failed'));
  }

  private startWorker(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const worker: PodWorker = new PodWorker(pod, {
      runtime: this.options.runtime,
      clock: this.clock,
      logger: this.logger,
      recorder: this.options.recorder,
      statuses: this.statuses,
      pods: this.pods,
      limiter: this.limiter,
      crashBackoff: this.crashBackoff,
      imageBackoff: this.imageBackoff,
      rootDir: this.options.rootDir,
      ...(this.options.dns !== undefined ? { dns: this.options.dns } : {}),
      setup: this.setup,
      ...(this.options.metrics !== undefined ? { metrics: this.options.metrics } : {}),
      hostIPs: () => this.hostIPs(),
      probesFor: (owner) => this.options.probes?.(owner.current, () => owner.wake()) ?? this.probeSet(owner),
      containersSeen: (owner, ids) => {
        for (const id of this.podContainers.get(owner) ?? []) this.containerOwners.delete(id);
        for (const id of ids) this.containerOwners.set(id, owner);
        this.podContainers.set(owner, ids);
      },
      finished: (owner) => {
        this.workers.delete(owner);
        for (const id of this.podContainers.get(owner) ?? []) this.containerOwners.delete(id);
        this.podContainers.delete(owner);
      },
    });
    this.workers.set(uid, worker);
    worker.wake();
  }

  /** The pod's probe workers (liveness, readiness, startup); their results wake its worker. */
  private probeSet(owner: PodWorker): PodProbes {
    const { runtime, recorder } = this.options;
    return new PodProbeSet({
      clock: this.clock,
      execSync: (containerId, command, timeoutSeconds) => runtime.execSync(containerId, command, timeoutSeconds),
      wake: () => owner.wake(),
      onEvent: (pod, _container, event) => recorder.event(pod as KubeObject, event.type, event.reason, event.message),
    });
  }

  /** Admits queued pods one at a time, oldest first, each against the pods admitted before it. */
  private async admitQueued(): Promise<void> {
    while (this.admissionQueue.size > 0 && !this.stopped) {
      const node = this.options.node();
      if (node === undefined) {
        await new Promise<void>((resolve) => this.clock.schedule(ADMISSION_RETRY_MS, resolve));
        continue;
      }
      const [uid, pod] = [...this.admissionQueue].sort(([, a], [, b]) => creation(a) - creation(b))[0]!;
      const active = [...this.workers.values()].map((worker) => worker.current).filter((other) => !isTerminal(other));
      const admit = this.options.admit ?? ((candidate, onNode, others) => admitPod(candidate, onNode, others, { podsShareNodeNetwork: this.options.podsShareNodeNetwork ?? false }));
      const result = admit(pod, node, active);
      if (result.admit) {
        this.admissionQueue.delete(uid);
        this.startWorker(pod);
        continue;
      }
      try {
        await this.reject(pod, result.reason, result.message);
        this.admissionQueue.delete(uid);
      } catch (error) {
        this.logger.warn({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, err: (error as Error).message }, 'writing a rejected pod status failed; retrying');
        await new Promise<void>((resolve) => this.clock.schedule(ADMISSION_RETRY_MS, resolve));
      }
    }
  }

  /** A refused pod: phase Failed with the reason, an Event, and a worker that runs nothing (and deletes it when asked). */
  private async reject(pod: PodObject, reason: string, message: string): Promise<void> {
    const text = `Pod was rejected: ${message}`;
    this.logger.info({ pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, reason, message }, 'pod rejected at admission');
    this.options.recorder.event(pod, 'Warning', reason, text);
    const status = { ...(pod.status ?? {}), phase: 'Failed', reason, message: text };
    let written: PodObject | undefined;
    try {
      written = await this.pods.namespace(pod.metadata?.namespace ?? '').updateStatus({ ...pod, status });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    this.startWorker(written);
  }

  /** Stops and removes what the runtime holds of pods no longer bound here (after a restart, or a missed delete). */
  private housekeeping(): Promise<void> {
    // One pass at a time; a pass asked for while one runs is covered by the next period's.
    this.housekeepingPass ??= this.cleanOrphans().finally(() => (this.housekeepingPass = undefined));
    return this.housekeepingPass;
  }

  private async cleanOrphans(): Promise<void> {
    if (!this.podInformer.hasSynced() || this.stopped) return;
    const { runtime } = this.options;
    // What the runtime and disk hold is read before the pods we know: anything a worker made in
    // between belongs to a pod already known (workers exist before they make anything).
    const containers = await runtime.listContainers();
    const sandboxes = await runtime.listPodSandboxes();
    const volumeUids = await this.volumes.podUids();
    const known = new Set(this.podInformer.indexer.list().map((pod) => pod.metadata?.uid ?? ''));
    for (const uid of this.workers.keys()) known.add(uid);
    for (const container of containers) {
      const uid = podUidOf(container);
      if (uid === undefined || known.has(uid)) continue;
      this.logger.info({ uid, container: container.name, id: container.id }, 'stopping a container of a pod no longer bound here');
      await runtime.stopContainer(container.id, 2).catch(ignoreRuntimeNotFound);
      await runtime.removeContainer(container.id).catch(ignoreRuntimeNotFound);
    }
    for (const sandbox of sandboxes) {
      if (known.has(sandbox.uid)) continue;
      this.logger.info({ uid: sandbox.uid, pod: `${sandbox.namespace}/${sandbox.name}` }, 'removing the sandbox of a pod no longer bound here');
      await runtime.stopPodSandbox(sandbox.id).catch(ignoreRuntimeNotFound);
      await runtime.removePodSandbox(sandbox.id).catch(ignoreRuntimeNotFound);
    }
    for (const uid of volumeUids) if (!known.has(uid)) await this.volumes.tearDown(uid);
  }

  private hostIPs(): string[] {
    const addresses = this.options.node()?.status?.addresses ?? [];
    return addresses.filter((address) => address.type === 'InternalIP').map((address) => address.address);
  }

  private objectLookup(): ObjectLookup {
    const configMaps = this.options.client.resource<ConfigMap & KubeObject>('', 'v1', 'configmaps');
    const secrets = this.options.client.resource<Secret & KubeObject>('', 'v1', 'secrets');
    // ConfigMaps and Secrets are read when needed (upstream's "Get" change-detection strategy), not watched cluster-wide.
    const get = async <T extends KubeObject>(client: ResourceClient<T>, namespace: string, name: string): Promise<T | undefined> => {
      try {
        return await client.namespace(namespace).get(name);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    };
    return {
      configMap: (namespace, name) => get(configMaps, namespace, name),
      secret: (namespace, name) => get(secrets, namespace, name),
      services: (namespace) => this.serviceInformer.indexer.list().filter((service) => service.metadata?.namespace === namespace),
    };
  }
}

/**
 * Whether a pod's change asks for a sync: anything but its status (mostly the kubelet's own writes),
 * or the conditions its readiness gates read, or a terminal phase written by someone else.
 */
export function needsSync(old: Pod, pod: Pod): boolean {
  const strip = (p: Pod): unknown => ({ ...p, status: undefined, metadata: { ...p.metadata, resourceVersion: undefined, managedFields: undefined, generation: undefined } });
  if (JSON.stringify(strip(old)) !== JSON.stringify(strip(pod))) return true;
  const gates = new Set((pod.spec?.readinessGates ?? []).map((gate) => gate.conditionType));
  const gated = (p: Pod): string => JSON.stringify((p.status?.conditions ?? []).filter((c) => gates.has(c.type)).map((c) => [c.type, c.status]));
  if (gates.size > 0 && gated(old) !== gated(pod)) return true;
  return isTerminal(pod) && !isTerminal(old);
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function creation(pod: Pod): number {
  return Date.parse(pod.metadata?.creationTimestamp ?? '') || 0;
}

function ignoreRuntimeNotFound(error: unknown): void {
  if (error instanceof RuntimeError && error.code === 'NotFound') return;
  throw error;
}
