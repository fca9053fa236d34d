import { seededRandom } from '@k8ts/base';
import { isWhole } from './analysis.js';
import { ApiObserver } from './api_observer.js';
import { checkDeploymentRecovered, checkLinearizable, checkNoLostWrites, checkNoPodTwice, checkProcessesUp, type PodPlacementSample, type ReplicaSample } from './checks.js';
import { ClusterIpProber } from './cluster_ip_prober.js';
import { DeploymentWorkload, WORKLOAD_LABELS } from './deployment_workload.js';
import { checkDeadNodePodsReplaced, checkNoNodeOvercommitted, type NodeLoadSample, type PlacementSample } from './node_checks.js';
import { RegisterWorkload } from './register_workload.js';
import { clearLinkFaults, heal, inject } from './faults.js';
import { faultSchedule, type FaultKind, type ScheduleOptions } from './schedule.js';
import { checkServedByReadyPods, leaderlessIntervals, type Interval, type ServiceAnswer } from './service_checks.js';
import { ServiceProber, type ProbeResult } from './service_prober.js';
import type { ChaosTarget } from './target.js';
import type { FaultRecord, HealthSample, RunRecord } from './timeline.js';

/**
 * One chaos run: the workload set up and settled, the seeded faults put in place and healed one at
 * a time while the workload and a monitor record everything, then a wait (bounded) for the cluster
 * to be whole again, then the checks. An abort (Ctrl-C) schedules no further fault but still heals
 * the one in place and checks what was recorded.
 */

export interface ChaosRunOptions {
  readonly target: ChaosTarget;
  readonly seed: number;
  readonly durationMs: number;
  readonly kinds: readonly FaultKind[];
  /** After the last heal, the Deployment must be back within this. */
  readonly recoveryBoundMs: number;
  /** Progress, one line each (stderr in the command). */
  readonly log: (line: string) => void;
  readonly signal?: AbortSignal;
  /** The schedule's warm-up, fault lengths and gaps (defaults: faultSchedule's), e.g. a node lost past its grace period. */
  readonly timings?: Pick<ScheduleOptions, 'warmupMs' | 'healAfterMsMin' | 'healAfterMsMax' | 'gapMsMin' | 'gapMsMax' | 'nodeLossMs'>;
  /** The workload's pods tolerate an unreachable or not-ready node this long (default: the API's, 300 s). */
  readonly podTolerationSeconds?: number;
}

/** The Deployment alternates between these sizes, one step at each fault's start; every other fault also rolls it. */
const REPLICAS = [2, 3] as const;
/**
 * How long after a pod stopped being ready (per the API) a Service may still send it a request:
 * two watch hops (endpoints controller, kube-proxy), an Endpoints write and the kubelet stopping a
 * deleted pod, plus the API's whole-second timestamps. Upstream bounds none of it per request (its
 * network programming latency SLI is a cluster-day percentile); runs here saw at most ~1.2 s, and a
 * loaded 2-core CI machine stretches every hop, so 5 s: still far short of a pod left in the
 * endpoints for good. See service_checks.ts.
 */
const ENDPOINTS_ALLOWANCE_MS = 5_000;
const MONITOR_INTERVAL_MS = 500;
const SETTLE_TIMEOUT_MS = 120_000;
const RESOLVE_TIMEOUT_MS = 10_000;
const SCALE_RETRY_MS = 15_000;
const SETUP_RETRY_MS = 60_000;

export async function runChaos(options: ChaosRunOptions): Promise<RunRecord> {
  const { target, log } = options;
  const schedule = faultSchedule({ seed: options.seed, durationMs: options.durationMs, kinds: options.kinds, parts: target.parts(), ...options.timings });
  log(`chaos: ${target.description}, seed ${options.seed}, ${schedule.length} faults in ${options.durationMs / 1000} s: ${schedule.map((f) => `${(f.atMs / 1000).toFixed(0)}s ${f.kind} ${f.target}`).join(', ')}`);
  const runId = `${options.seed}-${Date.now().toString(36)}`;
  const workload = new DeploymentWorkload(target.endpoints.apiGrpc, `chaos-${runId}`, REPLICAS[0], options.podTolerationSeconds);
  let registers: RegisterWorkload | undefined;
  let observer: ApiObserver | undefined;
  // The run's clock: 0 when the faults start; the pods' and the API's times are converted through the epoch it started at.
  let startedAt = performance.now();
  let epochAtStartMs = Date.now();
  const now = (): number => performance.now() - startedAt;
  try {
    // Rules a crashed run left in a part's namespace would be a fault nobody scheduled.
    const unreached = await clearLinkFaults(target);
    if (unreached.length > 0) log(`chaos: link faults not cleared on ${unreached.join(', ')} (down?)`);
    // Set-up calls are retried for a while: a busy cluster may time a call out (creates meet their own first attempt as AlreadyExists).
    const { nodePort, clusterIp, port } = await retried(() => workload.create(), 'creating the workload', log);
    const inPod = new ClusterIpProber({ client: workload.client, namespace: workload.namespace, nodes: target.endpoints.nodeAddresses, epochAtStartMs: () => epochAtStartMs, now, log });
    await retried(() => inPod.create(clusterIp, port), 'creating the ClusterIP probers', log);
    await settle(workload, log);
    await inPod.ready(SETTLE_TIMEOUT_MS);
    log(`chaos: Deployment ${workload.namespace}/echo ${REPLICAS[0]}/${REPLICAS[0]} ready, Service on node port ${nodePort} and ${clusterIp}:${port} (probed from a pod on each node); faults start`);

    startedAt = performance.now();
    epochAtStartMs = Date.now();
    observer = new ApiObserver(workload.client, workload.namespace, now, epochAtStartMs);
    await observer.start();
    registers = new RegisterWorkload({ stores: target.endpoints.stores, now, random: seededRandom(options.seed ^ 0x5eed), keys: [`k8ts-chaos/${runId}/r0`, `k8ts-chaos/${runId}/r1`] });
    const prober = new ServiceProber({ nodes: target.endpoints.nodeAddresses, nodePort, now });
    const monitor = new Monitor(target, workload, observer, now);
    registers.start();
    prober.start();
    inPod.start();
    monitor.start();

    const faults: FaultRecord[] = [];
    const scales: { atMs: number; replicas: number }[] = [];
    const rollouts: { atMs: number }[] = [];
    let scaling: Promise<void> = Promise.resolve(); // one at a time, in order
    for (const [index, planned] of schedule.entries()) {
      await sleepUntil(now, planned.atMs, options.signal);
      if (options.signal?.aborted) break;
      let part: string;
      try {
        part = await resolveTarget(target, planned.target, options.signal);
      } catch (error) {
        faults.push({ kind: planned.kind, target: planned.target, injectedAtMs: now(), error: (error as Error).message });
        log(`chaos: ${planned.kind}: no target: ${(error as Error).message}`);
        continue;
      }
      const fault: FaultRecord = { kind: planned.kind, target: planned.target, part, injectedAtMs: now() };
      faults.push(fault);
      try {
        await inject(target, planned.kind, part, planned);
        log(`chaos: ${(fault.injectedAtMs / 1000).toFixed(1)} s ${planned.kind} ${part}`);
      } catch (error) {
        fault.error = (error as Error).message;
        log(`chaos: ${planned.kind} ${part} not put in place: ${fault.error}`);
        continue;
      }
      // Scaled (and every other time rolled) while the fault is in place: retried in the background as a user would, never delaying the heal.
      const replicas = REPLICAS[(index + 1) % REPLICAS.length] as number;
      const roll = index % 2 === 1;
      scaling = scaling.then(async () => {
        const atMs = await withRetry(() => workload.scale(replicas), `scaling to ${replicas}`, now, log);
        if (atMs !== undefined) scales.push({ atMs, replicas });
        if (!roll) return;
        const rolledAtMs = await withRetry(() => workload.rolloutRestart(new Date()), 'rolling the Deployment', now, log);
        if (rolledAtMs !== undefined) rollouts.push({ atMs: rolledAtMs });
      });
      // Healed even on abort: a run never leaves a part killed, paused or cut off.
      await sleepUntil(now, fault.injectedAtMs + planned.healAfterMs, options.signal);
      try {
        await heal(target, planned.kind, part);
        fault.healedAtMs = now();
        log(`chaos: ${(fault.healedAtMs / 1000).toFixed(1)} s healed ${part}`);
      } catch (error) {
        fault.error = `not healed: ${(error as Error).message}`;
        log(`chaos: ${part} ${fault.error}`);
      }
    }
    await sleepUntil(now, options.durationMs, options.signal);
    await scaling;

    const lastHealAtMs = Math.max(0, ...faults.map((fault) => fault.healedAtMs ?? 0));
    const recordSoFar = (): Pick<RunRecord, 'probes' | 'history'> => ({ probes: prober.results, history: registers?.history ?? [] });
    // Whole, and the Deployment's last rollout done (the recovery check asks for both).
    const settled = (sample: HealthSample): boolean => isWhole(recordSoFar(), sample) && monitor.replicaSamples.at(-1)?.rolledOut !== false;
    await monitor.waitFor((sample) => sample.atMs > lastHealAtMs && settled(sample), lastHealAtMs + options.recoveryBoundMs);
    const last = monitor.samples.at(-1);
    log(`chaos: ${(now() / 1000).toFixed(1)} s ${last !== undefined && settled(last) ? 'cluster whole again' : 'cluster not whole within the bound'}; checking`);
    await Promise.all([prober.stop(), inPod.stop(), registers.stop(), monitor.stop()]);
    const endMs = now();
    const probes = [...prober.results, ...inPod.results()].sort((a, b) => a.atMs - b.atMs);

    const finalReads = await registers.finalReads(endMs + 15_000);
    const history = [...registers.history, ...finalReads.map((read) => ({ kind: 'read' as const, client: 'final', key: read.key, value: read.value, invokedAt: read.invokedAt, completedAt: now(), outcome: 'ok' as const }))];
    const checks = [
      checkLinearizable(history),
      checkNoLostWrites(registers.history, finalReads),
      checkDeploymentRecovered(monitor.replicaSamples, lastHealAtMs, options.recoveryBoundMs),
      checkDeadNodePodsReplaced(monitor.placementSamples, options.recoveryBoundMs),
      checkNoPodTwice(monitor.podSamples),
      checkNoNodeOvercommitted(monitor.nodeLoadSamples),
      checkServedByReadyPods(answers(probes), observer.readiness, [...leaderlessIntervals(monitor.samples, 'controller-manager-leader'), ...nodeFaultIntervals(faults, target, endMs)], ENDPOINTS_ALLOWANCE_MS),
      checkProcessesUp(await target.processes()),
    ];
    return { target: target.description, seed: options.seed, durationMs: options.durationMs, schedule, faults, samples: monitor.samples, probes, history: registers.history, scales, rollouts, endMs, checks };
  } finally {
    registers?.close();
    await observer?.stop();
    await workload.delete().catch((error: unknown) => log(`chaos: namespace ${workload.namespace} not deleted: ${(error as Error).message}`));
    workload.close();
  }
}

/** The requests a Service answered, with the pod that answered each and the node that forwarded it. */
function answers(probes: readonly ProbeResult[]): ServiceAnswer[] {
  return probes.flatMap((probe) =>
    probe.ok && probe.answeredBy !== undefined
      ? [{ atMs: probe.atMs, doneAtMs: probe.doneAtMs, pod: probe.answeredBy, node: probe.node, via: probe.via === 'cluster-ip' ? `cluster IP from ${probe.node}` : `node port of ${probe.node}` }]
      : [],
  );
}

/** While a fault is on a node (killed, paused, cut off, its links lossy), its kube-proxy may not hear of endpoint changes. */
function nodeFaultIntervals(faults: readonly FaultRecord[], target: ChaosTarget, endMs: number): Interval[] {
  return faults.flatMap((fault) =>
    fault.part !== undefined && target.endpoints.nodeAddresses.has(fault.part) ? [{ node: fault.part, fromMs: fault.injectedAtMs, toMs: fault.healedAtMs ?? endMs }] : [],
  );
}

/** Retries a change until the API takes it (for up to SCALE_RETRY_MS); resolves to when it did (undefined: never). Never rejects. */
async function withRetry(change: () => Promise<void>, what: string, now: () => number, log: (line: string) => void): Promise<number | undefined> {
  const deadline = now() + SCALE_RETRY_MS;
  for (;;) {
    try {
      await change();
      return now();
    } catch (error) {
      if (now() > deadline) {
        log(`chaos: ${what} failed for ${SCALE_RETRY_MS / 1000} s: ${(error as Error).message}`);
        return undefined;
      }
    }
    await new Promise((done) => setTimeout(done, 500));
  }
}

/** Runs `step` until it succeeds, for up to SETUP_RETRY_MS; then rejects with its last error. */
async function retried<T>(step: () => Promise<T>, what: string, log: (line: string) => void): Promise<T> {
  const deadline = Date.now() + SETUP_RETRY_MS;
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      log(`chaos: ${what}: ${(error as Error).message}; trying again`);
    }
    await new Promise((done) => setTimeout(done, 1_000));
  }
}

/** A leader role may have no holder for a moment (an election under way): asked again for a while. */
async function resolveTarget(target: ChaosTarget, wanted: string, signal: AbortSignal | undefined): Promise<string> {
  const deadline = Date.now() + RESOLVE_TIMEOUT_MS;
  for (;;) {
    try {
      return await target.resolve(wanted);
    } catch (error) {
      if (Date.now() > deadline || signal?.aborted === true) throw error;
    }
    await new Promise((done) => setTimeout(done, 250));
  }
}

/** Waits until the Deployment has its replicas ready before any fault. */
async function settle(workload: DeploymentWorkload, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let last = 'not read';
  for (;;) {
    try {
      const sample = await workload.sample(0);
      if (sample.ready === sample.desired) return;
      last = `${sample.ready}/${sample.desired} ready`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`the workload's Deployment did not become ready within ${SETTLE_TIMEOUT_MS / 1000} s (${last}): is the cluster healthy? (k8ts status)`);
    if (last !== 'not read') log(`chaos: waiting for the Deployment: ${last}`);
    await new Promise((done) => setTimeout(done, 1_000));
  }
}

/** Resolves at `atMs` on the run's clock, or at once on abort. */
function sleepUntil(now: () => number, atMs: number, signal: AbortSignal | undefined): Promise<void> {
  const waitMs = atMs - now();
  if (waitMs <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((done) => {
    const finish = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      done();
    };
    const timer = setTimeout(finish, waitMs);
    signal?.addEventListener('abort', finish, { once: true });
  });
}

/** Looks at the whole cluster every MONITOR_INTERVAL_MS: processes, Nodes, replicas, leaders, the nodes' pods. */
class Monitor {
  readonly samples: HealthSample[] = [];
  readonly replicaSamples: ReplicaSample[] = [];
  readonly podSamples: PodPlacementSample[] = [];
  readonly placementSamples: PlacementSample[] = [];
  readonly nodeLoadSamples: NodeLoadSample[] = [];
  private desired: number | undefined;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly target: ChaosTarget,
    private readonly workload: DeploymentWorkload,
    private readonly observer: ApiObserver,
    private readonly now: () => number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Resolves once a sample satisfies `whole`, or when the run's clock passes `deadlineMs`. */
  async waitFor(whole: (sample: HealthSample) => boolean, deadlineMs: number): Promise<void> {
    let seen = this.samples.length;
    while (this.now() < deadlineMs) {
      if (this.samples.slice(seen).some(whole)) return;
      seen = this.samples.length;
      await new Promise((done) => setTimeout(done, MONITOR_INTERVAL_MS / 2));
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      const atMs = this.now();
      await this.look(atMs).catch(() => undefined); // a look that fails is a gap in the samples
      const elapsed = this.now() - atMs;
      if (elapsed < MONITOR_INTERVAL_MS) await new Promise((done) => setTimeout(done, MONITOR_INTERVAL_MS - elapsed));
    }
  }

  private async look(atMs: number): Promise<void> {
    // Each part of a look fails on its own (a paused API server, a dead store leader): a gap, never a crash.
    const [processes, nodes, replicas, leaders, pods] = await Promise.all([
      this.target.processes(),
      this.workload.nodesReady().catch(() => undefined),
      this.workload.sample(atMs).catch(() => undefined),
      this.target.leaders().catch(() => ({})),
      this.target.runningPods().catch(() => undefined),
    ]);
    this.samples.push({
      atMs,
      processesUp: processes.filter((p) => p.up).length,
      processesTotal: processes.length,
      ...(nodes === undefined ? {} : { nodesReady: nodes.ready, nodesTotal: nodes.total }),
      ...(replicas === undefined ? {} : { desired: replicas.desired, ready: replicas.ready }),
      leaders,
    });
    if (replicas !== undefined) this.replicaSamples.push(replicas);
    this.desired = replicas?.desired ?? this.desired;
    // The API's side from the watched caches (they answer even while the API does not; they are as fresh as the watch).
    if (this.desired !== undefined) this.placementSamples.push(this.observer.placement(atMs, this.desired, WORKLOAD_LABELS));
    if (pods !== undefined) {
      this.podSamples.push({ atMs, pods });
      this.nodeLoadSamples.push(this.observer.nodeLoads(atMs, pods));
    }
  }
}
