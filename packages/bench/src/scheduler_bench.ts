import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient, isExpired, isNotFound, type ListOptions, type ResourceClient, type Watch } from '@k8ts/client';
import { SCHEDULER_BINARY, SchedulerProcess, type StoreKind } from '@k8ts/testkit';
import type { Logger } from 'pino';
import { withApiServerOverStore } from './apiserver_over_store.js';
import { describeError, runClosedLoop } from './closed_loop.js';
import { logWarnings } from './clusters.js';
import { measureCpu } from './cpu.js';
import { endpointStatus } from './etcd_client.js';
import {
  BindLedger,
  checkFinalBindings,
  checkNodeCapacity,
  checkPlacement,
  computeThroughput,
  schedulingLatency,
  summarizeFailedScheduling,
} from './scheduler_measure.js';
import { summarizeSchedulerMetrics, type SchedulerMetricSummary } from './scheduler_metrics.js';
import { checkSchedulerOptions, type SchedulerBenchOptions } from './scheduler_options.js';
import { captureSchedulerConditions, checkProblems, checkSchedulerTargets } from './scheduler_report.js';
import type {
  FailedSchedulingEvents,
  SchedulerBenchReport,
  SchedulerChecks,
  SchedulerCpuUse,
  SchedulerTargetDescription,
  SchedulingMeasurement,
  SetupPhase,
} from './scheduler_results.js';
import {
  RUN_LABEL,
  buildFillPod,
  buildMeasuredPod,
  buildNode,
  buildPriorityClass,
  planWorkload,
  type BenchNode,
  type BenchPod,
  type CoreEvent,
  type PodContext,
  type PriorityClassObject,
  type WorkloadPlan,
} from './scheduler_workloads.js';
import { ratePerSecond } from './stats.js';

/**
 * Start 3 (or `members`) store members — k8ts-store, or etcd — and one k8ts-apiserver serving its
 * gRPC API; or use a running apiserver (its HTTP URL and gRPC address). The scheduler is started
 * by this run either way.
 */
export type SchedulerBenchMode =
  | { readonly kind: 'start'; readonly members: number; readonly store: StoreKind }
  | { readonly kind: 'server'; readonly url: string; readonly grpc: string };

const GRPC_READY_TIMEOUT_MS = 20_000;
const SETUP_MAX_MS = 60 * 60_000;
/** A setup step stops after this many failed creates (they are all reported, and the run stops). */
const SETUP_MAX_ERRORS = 100;
const LIST_PAGE = 5000;
/** After the last bind, how long the watch keeps looking for a second bind before the final checks. */
const SETTLE_MS = 1000;
const PROGRESS_EVERY_MS = 5000;
const CALL_TIMEOUT_MS = 60_000;

interface Pids {
  readonly apiserver: readonly number[];
  readonly store: readonly number[];
}

/** What the signal handler stops: the scheduler once it runs. */
interface Running {
  scheduler?: SchedulerProcess;
}

/**
 * Runs `k8ts bench scheduler`: register the nodes, create the workload's pods (and Preemption's
 * fill), start the scheduler, and measure until every measured pod is bound or --timeout. Every
 * process this run started is stopped at the end (also on SIGINT/SIGTERM); on a given --server the
 * run's pods, namespace, nodes and PriorityClasses are deleted after.
 */
export async function runSchedulerBench(mode: SchedulerBenchMode, options: SchedulerBenchOptions, logger: Logger): Promise<SchedulerBenchReport> {
  checkSchedulerOptions(options);
  const plan = planWorkload(options);
  const startedAt = new Date();
  if (!existsSync(SCHEDULER_BINARY)) throw new Error(`${SCHEDULER_BINARY} is missing: build the workspace first (pnpm install && pnpm build)`);
  const running: Running = {};
  if (mode.kind === 'server') {
    const onSignal = (signal: NodeJS.Signals): void => {
      logger.warn({ signal }, 'interrupted; stopping the scheduler');
      void (running.scheduler?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const target = { server: mode.url, grpc: mode.grpc, namespace: '' };
      return await runWorkload(target, { apiserver: [], store: [] }, plan, options, logger, startedAt, running, { cleanUp: true, store: 'behind the given --server (not known here)' });
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  }
  return withApiServerOverStore(
    { store: mode.store, members: mode.members, grpc: true, logger, stopFirst: () => running.scheduler?.stop() ?? Promise.resolve() },
    (started) => {
      const target: SchedulerTargetDescription = {
        server: started.apiserver.url,
        grpc: started.grpc as string,
        namespace: '',
        startedWith: `1 k8ts-apiserver (plain HTTP and gRPC) over ${mode.members} ${started.storeName} members on 127.0.0.1, started by @k8ts/testkit, default settings (fsync on)`,
        storeEndpoints: started.storeEndpoints,
        dataDirFilesystem: started.dataDirFilesystem,
      };
      const pids = { apiserver: started.apiserverPids, store: started.storePids };
      return runWorkload(target, pids, plan, options, logger, startedAt, running, { cleanUp: false, store: `${mode.members} ${started.storeName} members` });
    },
  );
}

async function runWorkload(
  target: SchedulerTargetDescription,
  pids: Pids,
  plan: WorkloadPlan,
  options: SchedulerBenchOptions,
  logger: Logger,
  startedAt: Date,
  running: Running,
  how: { readonly cleanUp: boolean; readonly store: string },
): Promise<SchedulerBenchReport> {
  const runId = `${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  const namespace = `k8ts-bench-${runId}`;
  const client = new ApiClient({ addresses: [target.grpc], callTimeoutMs: CALL_TIMEOUT_MS, fieldManager: 'k8ts-bench' });
  const podClient = client.resource<BenchPod>('', 'v1', 'pods').namespace(namespace);
  const nodeClient = client.resource<BenchNode>('', 'v1', 'nodes');
  const extraArgs = ['--leader-elect=false', ...(options.schedulerConfig === undefined ? [] : ['--config', options.schedulerConfig])];
  let schedulerArgs = ['--master', target.grpc, '--bind-address', '127.0.0.1', '--port', '<free port>', ...extraArgs];
  const versions = await captureVersions(target);
  let conditions = captureSchedulerConditions(options, plan, startedAt, { store: how.store, versions, schedulerArgs });
  const setup: SetupPhase[] = [];
  const problems: string[] = [];
  const createdClasses: string[] = [];
  let measurement: SchedulingMeasurement | undefined;
  let checks: SchedulerChecks | undefined;
  let follower: PodFollower | undefined;
  let schedulerLog: string | undefined;
  let schedulerHealthUrl: string | undefined;
  try {
    await waitForGrpc(client, GRPC_READY_TIMEOUT_MS);
    await client.resource('', 'v1', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { [RUN_LABEL]: runId } } });
    const priorityValues = await ensurePriorityClasses(client, plan, runId, createdClasses, logger);
    const context: PodContext = { namespace, runId, priorityValues };

    logger.info({ nodes: options.nodes, zones: options.zones, concurrency: options.concurrency }, 'registering simulated nodes');
    const now = new Date();
    await setupStep(setup, logger, 'nodes', options.nodes, options.concurrency, (index) => nodeClient.create(buildNode(index, options, runId, now)));

    if (plan.fill !== undefined) {
      logger.info({ pods: plan.fill.pods, perNode: plan.fill.perNode }, 'creating low-priority fill pods');
      await setupStep(setup, logger, 'fill pods', plan.fill.pods, options.concurrency, (index) => podClient.create(buildFillPod(plan, context, index).pod));
      logger.info({ pods: plan.fill.pods }, 'binding fill pods round robin (unmeasured)');
      await setupStep(setup, logger, 'fill bindings', plan.fill.pods, options.concurrency, (index) => {
        const { pod, node } = buildFillPod(plan, context, index);
        return podClient.bind(pod.metadata?.name ?? '', node);
      });
    }

    logger.info({ pods: plan.measuredPods, workload: plan.name }, 'creating the measured pods (the scheduler is not running yet)');
    await setupStep(setup, logger, 'pods', plan.measuredPods, options.concurrency, (index) => podClient.create(buildMeasuredPod(plan, context, index)));

    // The run's nodes, and on a given --server the nodes already there, which the scheduler may use too.
    const knownNodes = new Set((await listAll(nodeClient)).items.map((node) => node.metadata?.name ?? ''));
    const ledger = new BindLedger(plan.measuredPods, knownNodes);
    const listed = await listAll(podClient);
    const seenAt = performance.now();
    for (const pod of listed.items) ledger.observe('ADDED', pod, seenAt);
    if (ledger.measuredBound > 0) {
      problems.push(`${ledger.measuredBound} measured pods were bound before this run's scheduler started: is another scheduler serving this cluster?`);
    }
    follower = followPods(podClient, listed.resourceVersion, ledger, logger);

    logger.info({ binary: SCHEDULER_BINARY, args: extraArgs }, 'starting the scheduler');
    const spawnedAt = performance.now();
    const scheduler = await SchedulerProcess.start([target.grpc], { extraArgs });
    running.scheduler = scheduler;
    schedulerHealthUrl = scheduler.healthUrl;
    const readyAt = performance.now();
    schedulerArgs = schedulerArgs.map((arg) => (arg === '<free port>' ? new URL(scheduler.healthUrl).port : arg));
    conditions = { ...conditions, schedulerArgs };
    const boundBeforeReady = ledger.measuredBoundBy(readyAt);
    logger.info({ healthUrl: scheduler.healthUrl, startMs: Math.round(readyAt - spawnedAt), boundBeforeReady }, 'scheduler healthy; measuring');

    const schedulerPids = scheduler.pid === undefined ? [] : [scheduler.pid];
    const timeoutMs = options.timeoutSeconds * 1000;
    const activeFollower = follower;
    const { result: stoppedBy, cpu } = await measureProcesses({ scheduler: schedulerPids, ...pids }, () => waitForBinds(ledger, activeFollower, readyAt, timeoutMs, logger));
    const endedAt = performance.now();
    logger.info({ bound: ledger.measuredBound, of: plan.measuredPods, stoppedBy }, 'measurement done; settling and checking');
    const metrics = await scrapeSchedulerMetrics(scheduler.healthUrl);
    await sleep(SETTLE_MS);
    const failedScheduling = await listFailedScheduling(client, namespace).catch((error: unknown): FailedSchedulingEvents => {
      problems.push(`could not list FailedScheduling events: ${describeError(error)}`);
      return { events: 0, occurrences: 0, messages: [] };
    });
    const finalPods = (await listAll(podClient)).items;
    const finalNodes = (await listAll(nodeClient)).items;
    follower.stop();
    const failure = follower.failure();
    if (failure !== undefined) problems.push(failure);
    if (scheduler.pid === undefined || !isAlive(scheduler.pid)) problems.push('the scheduler exited during the run');

    // The figures stop where measurement stopped: binds seen while settling and checking after a timeout do not count.
    const bindTimes = ledger.measuredBindTimes().filter((time) => time <= endedAt);
    const throughput = computeThroughput(bindTimes, readyAt);
    const unbound = plan.measuredPods - bindTimes.length;
    const placement = checkPlacement(plan.placement, finalNodes, finalPods);
    const bindings = ledger.report();
    const final = checkFinalBindings(ledger.firstNodes(), finalPods);
    checks = {
      bindings: { count: bindings.count + final.count, samples: [...bindings.samples, ...final.samples].slice(0, 10) },
      capacity: checkNodeCapacity(finalNodes, finalPods),
      placement: placement.anomalies,
      ...(placement.summary === undefined ? {} : { placementSummary: placement.summary }),
      unbound,
    };
    problems.push(...checkProblems(checks));
    measurement = {
      measuredPods: plan.measuredPods,
      bound: bindTimes.length,
      unbound,
      schedulerStartMs: readyAt - spawnedAt,
      boundBeforeReady,
      elapsedMs: stoppedBy === 'all bound' ? throughput.lastBindMs : endedAt - readyAt,
      stoppedBy,
      throughput,
      latency: schedulingLatency(bindTimes, readyAt),
      schedulerMetrics: metrics.summaries,
      ...(metrics.note === undefined ? {} : { schedulerMetricsNote: metrics.note }),
      failedScheduling,
      ...(plan.fill === undefined ? {} : { victimsDeleted: ledger.fillDeleted }),
      cpu,
    };
  } catch (error) {
    const problem = `the run failed: ${describeError(error)}`;
    logger.error({ problem }, 'run failed');
    problems.push(problem);
  } finally {
    follower?.stop();
    const scheduler = running.scheduler;
    if (scheduler !== undefined) {
      logger.info('stopping the scheduler');
      await scheduler.stop();
      schedulerLog = scheduler.log;
      delete running.scheduler;
    }
    if (how.cleanUp) await cleanUpRun(client, namespace, runId, createdClasses, logger);
    client.close();
  }
  const report: SchedulerBenchReport = {
    conditions,
    target: { ...target, namespace, ...(schedulerHealthUrl === undefined ? {} : { schedulerHealthUrl }) },
    setup,
    ...(measurement === undefined ? {} : { measurement }),
    ...(checks === undefined ? {} : { checks }),
    targets: checkSchedulerTargets(conditions, measurement),
    problems,
  };
  const troubled = problems.length > 0 || setup.some((phase) => phase.failed > 0);
  return troubled && schedulerLog !== undefined ? { ...report, logWarnings: { scheduler: logWarnings(schedulerLog) } } : report;
}

/** Runs one setup step through a closed loop of `concurrency` workers; throws when any create failed. */
async function setupStep(
  setup: SetupPhase[],
  logger: Logger,
  name: SetupPhase['name'],
  total: number,
  concurrency: number,
  operation: (index: number) => Promise<unknown>,
): Promise<void> {
  const result = await runClosedLoop({
    clients: concurrency,
    total,
    maxDurationMs: SETUP_MAX_MS,
    maxErrors: SETUP_MAX_ERRORS,
    operation: async (_client, index) => {
      await operation(index);
    },
  });
  const phase: SetupPhase = {
    name,
    requested: total,
    completed: result.completed,
    failed: result.failed,
    errors: result.errors,
    elapsedMs: result.elapsedMs,
    perSecond: ratePerSecond(result.completed, result.elapsedMs),
    latency: result.latency,
  };
  setup.push(phase);
  logger.info({ step: name, done: phase.completed, failed: phase.failed, perSecond: Math.round(phase.perSecond), p99Ms: phase.latency.p99Ms }, `${name} done`);
  if (phase.completed < total) throw new Error(`${name}: ${phase.completed} of ${total} done (${phase.failed} failed, first: ${Object.keys(phase.errors)[0] ?? 'none'})`);
}

/** The API server's gRPC port may open a moment after its /readyz: a cheap call until one answers. */
async function waitForGrpc(client: ApiClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.resource('', 'v1', 'namespaces').list({ limit: 1 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`the apiserver's gRPC API did not answer within ${timeoutMs} ms: ${describeError(error)}`);
      await sleep(100);
    }
  }
}

/** Creates Preemption's PriorityClasses (or takes the ones there); returns each class's value as the server holds it. */
async function ensurePriorityClasses(client: ApiClient, plan: WorkloadPlan, runId: string, created: string[], logger: Logger): Promise<Record<string, number>> {
  const classes = client.resource<PriorityClassObject>('scheduling.k8s.io', 'v1', 'priorityclasses');
  const values: Record<string, number> = {};
  for (const { name, value } of plan.priorityClasses) {
    try {
      values[name] = (await classes.create(buildPriorityClass(name, value, runId))).value;
      created.push(name);
    } catch (error) {
      if (isNotFound(error)) throw new Error(`the apiserver does not serve scheduling.k8s.io/v1 priorityclasses, which ${plan.name} needs: ${describeError(error)}`);
      const existing = await classes.get(name).catch(() => undefined);
      if (existing === undefined) throw error;
      if (existing.value !== value) logger.warn({ name, value: existing.value, wanted: value }, 'PriorityClass exists with another value; using it');
      values[name] = existing.value;
    }
  }
  return values;
}

async function listAll<T extends BenchPod | BenchNode | CoreEvent>(resource: ResourceClient<T>, options: ListOptions = {}): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let resourceVersion = '';
  let next: string | undefined;
  do {
    const page = await resource.list({ ...options, limit: LIST_PAGE, ...(next === undefined ? {} : { continue: next }) });
    for (const item of page.items) items.push(item);
    if (resourceVersion === '') resourceVersion = page.resourceVersion;
    next = page.continue;
  } while (next !== undefined && next !== '');
  return { items, resourceVersion };
}

interface PodFollower {
  /** Ends when stopped, or when the watch failed for good (then `failure()` says why). */
  readonly done: Promise<void>;
  stop(): void;
  failure(): string | undefined;
}

const WATCH_RETRIES = 5;

/** Feeds the ledger from a watch on the run's pods, resuming after an end and listing again after 410 Expired. */
function followPods(pods: ResourceClient<BenchPod>, fromVersion: string, ledger: BindLedger, logger: Logger): PodFollower {
  let stopped = false;
  let current: Watch<BenchPod> | undefined;
  let failed: string | undefined;
  let version = fromVersion;
  const run = async (): Promise<void> => {
    let failures = 0;
    while (!stopped) {
      try {
        current = pods.watch({ resourceVersion: version, allowBookmarks: true });
        for await (const event of current) {
          failures = 0;
          const seen = event.object.metadata?.resourceVersion;
          if (seen !== undefined && seen !== '') version = seen;
          ledger.observe(event.type, event.object, performance.now());
          if (stopped) return;
        }
      } catch (error) {
        if (stopped) return;
        if (isExpired(error)) {
          logger.warn({ version }, 'pod watch expired; listing again');
          const listed = await listAll(pods).catch(() => undefined);
          if (listed !== undefined) {
            const at = performance.now();
            for (const pod of listed.items) ledger.observe('MODIFIED', pod, at);
            version = listed.resourceVersion;
            continue;
          }
        }
        failures += 1;
        logger.warn({ failures, err: describeError(error) }, 'pod watch failed; watching again');
        if (failures >= WATCH_RETRIES) {
          failed = `the watch on the pods failed ${failures} times in a row (last: ${describeError(error)}): binds after that were not seen`;
          return;
        }
        await sleep(200 * failures);
      }
    }
  };
  const done = run();
  return {
    done,
    stop: () => {
      stopped = true;
      current?.close();
    },
    failure: () => failed,
  };
}

/** Until every measured pod is seen bound, the timeout, or the watch failing; logs progress meanwhile. */
async function waitForBinds(ledger: BindLedger, follower: PodFollower, readyAt: number, timeoutMs: number, logger: Logger): Promise<SchedulingMeasurement['stoppedBy']> {
  let timer: NodeJS.Timeout | undefined;
  let lastCount = ledger.measuredBound;
  let lastAt = performance.now();
  const progress = setInterval(() => {
    const now = performance.now();
    const bound = ledger.measuredBound;
    logger.info({ bound, of: ledger.measuredPods, perSecondLately: Math.round(((bound - lastCount) * 1000) / (now - lastAt)), seconds: Math.round((now - readyAt) / 1000) }, 'pods bound');
    lastCount = bound;
    lastAt = now;
  }, PROGRESS_EVERY_MS);
  try {
    return await Promise.race([
      ledger.allBound().then(() => 'all bound' as const),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(0, readyAt + timeoutMs - performance.now()));
      }),
      follower.done.then(() => 'failure' as const),
    ]);
  } finally {
    clearInterval(progress);
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** CPU of this process, the scheduler, the apiserver and the store members during `work` (those this run knows the pids of). */
async function measureProcesses<T>(pids: Pids & { readonly scheduler: readonly number[] }, work: () => Promise<T>): Promise<{ result: T; cpu: SchedulerCpuUse }> {
  const outer = await measureCpu(pids.scheduler, () => measureCpu(pids.apiserver, () => measureCpu(pids.store, work)));
  const middle = outer.result;
  const inner = middle.result;
  const schedulerPercent = outer.cpu.membersPercent;
  const apiserverPercent = middle.cpu.membersPercent;
  const storePercent = inner.cpu.membersPercent;
  const machine = inner.cpu.machinePercent;
  const known = inner.cpu.loadGeneratorPercent + (schedulerPercent ?? 0) + (apiserverPercent ?? 0) + (storePercent ?? 0);
  return {
    result: inner.result,
    cpu: {
      loadGeneratorPercent: inner.cpu.loadGeneratorPercent,
      ...(schedulerPercent === undefined ? {} : { schedulerPercent }),
      ...(apiserverPercent === undefined ? {} : { apiserverPercent }),
      ...(storePercent === undefined ? {} : { storeMembersPercent: storePercent }),
      ...(machine === undefined ? {} : { machinePercent: machine, otherProcessesPercent: Math.max(0, Math.round((machine - known) * 10) / 10) }),
    },
  };
}

async function scrapeSchedulerMetrics(healthUrl: string): Promise<{ summaries: SchedulerMetricSummary[]; note?: string }> {
  try {
    const response = await fetch(`${healthUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return { summaries: [], note: `GET /metrics answered ${response.status}` };
    const summaries = summarizeSchedulerMetrics(await response.text());
    return summaries.length > 0 ? { summaries } : { summaries, note: 'exposes none of scheduler_scheduling_attempt_duration_seconds, scheduler_pod_scheduling_sli_duration_seconds' };
  } catch (error) {
    return { summaries: [], note: `GET /metrics failed: ${describeError(error)}` };
  }
}

/** FailedScheduling Events in the run's namespace (by field selector; filtered here if the server refuses the selector). */
async function listFailedScheduling(client: ApiClient, namespace: string): Promise<FailedSchedulingEvents> {
  const events = client.resource<CoreEvent>('', 'v1', 'events').namespace(namespace);
  let items: CoreEvent[];
  try {
    items = (await listAll(events, { fieldSelector: 'reason=FailedScheduling' })).items;
  } catch {
    items = (await listAll(events)).items;
  }
  return summarizeFailedScheduling(items);
}

/** On a server this run did not start: delete the run's pods (at once), events, namespace, nodes and PriorityClasses. */
async function cleanUpRun(client: ApiClient, namespace: string, runId: string, priorityClasses: readonly string[], logger: Logger): Promise<void> {
  logger.info({ namespace }, "deleting the run's objects");
  const selector = { labelSelector: `${RUN_LABEL}=${runId}` };
  const steps: [string, () => Promise<unknown>][] = [
    ['pods', () => client.resource('', 'v1', 'pods').namespace(namespace).deleteCollection(selector, { gracePeriodSeconds: 0 })],
    ['events', () => client.resource('', 'v1', 'events').namespace(namespace).deleteCollection()],
    ['namespace', () => client.resource('', 'v1', 'namespaces').delete(namespace)],
    ['nodes', () => client.resource('', 'v1', 'nodes').deleteCollection(selector)],
    ...priorityClasses.map((name): [string, () => Promise<unknown>] => [`priorityclass ${name}`, () => client.resource('scheduling.k8s.io', 'v1', 'priorityclasses').delete(name)]),
  ];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (error) {
      if (!isNotFound(error)) logger.warn({ what, err: describeError(error) }, 'clean-up failed');
    }
  }
}

const execFileAsync = promisify(execFile);

/** The apiserver's /version, the store's (Maintenance.Status), the scheduler's --version, each when it answers. */
async function captureVersions(target: SchedulerTargetDescription): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  try {
    const response = await fetch(`${target.server}/version`, { signal: AbortSignal.timeout(5000) });
    if (response.ok) versions['apiserver'] = String(((await response.json()) as { gitVersion?: unknown }).gitVersion ?? '?');
  } catch {
    // not known
  }
  const endpoint = target.storeEndpoints?.[0];
  if (endpoint !== undefined) {
    const status = await endpointStatus(endpoint, 5000);
    if (typeof status !== 'string') versions['store'] = status.version || '?';
  }
  try {
    const { stdout } = await execFileAsync(SCHEDULER_BINARY, ['--version'], { timeout: 10_000 });
    const line = stdout.trim().split('\n')[0];
    if (line !== undefined && line !== '') versions['scheduler'] = line;
  } catch {
    // No --version: the version of the package the binary comes from.
    try {
      const manifest = join(dirname(SCHEDULER_BINARY), '..', '@k8ts', 'scheduler-service', 'package.json');
      versions['scheduler'] = `@k8ts/scheduler-service ${String((JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version ?? '?')}`;
    } catch {
      // not known
    }
  }
  return versions;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
