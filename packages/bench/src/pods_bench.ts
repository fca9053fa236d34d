/**
 * `k8ts bench pods`: a cluster of its own (store, one apiserver, the scheduler; a controller
 * manager for node IPAM under process-runtime nodes; the node agents), then pods — at a steady
 * churn, or all at once in scale mode — with every pod's timeline taken from a watch. Every process
 * it started is stopped at the end (also on SIGINT/SIGTERM: withApiServerOverStore).
 */
import { ApiClient, SharedInformer, isAlreadyExists, type KubeObject } from '@k8ts/client';
import { ControllerManagerProcess, SchedulerProcess, type ComponentProcess } from '@k8ts/testkit';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import { withApiServerOverStore } from './apiserver_over_store.js';
import { logWarnings } from './clusters.js';
import { captureMachine } from './conditions.js';
import { AgentSampler, startAgents, stopAgents, type AgentUsage, type StartedAgents } from './pods_agents.js';
import { PodTimelines, type PodsMeasurement } from './pods_measure.js';
import { checkPodsOptions, type PodsBenchOptions } from './pods_options.js';
import { podsTargets, type PodsBenchReport } from './pods_report.js';

type PodObject = Pod & KubeObject;
type NodeObject = Node & KubeObject;

const CALL_TIMEOUT_MS = 60_000;
const NODES_READY_TIMEOUT_MS = 10 * 60_000;
/** Creates in flight at once during churn (a slow API makes the rate fall behind, which is reported). */
const CHURN_MAX_IN_FLIGHT = 1000;
const PROGRESS_EVERY_MS = 5000;
/** A create that fails (an overloaded apiserver's deadline) is tried again, up to this many times in all. */
const CREATE_ATTEMPTS = 5;
/** The controller manager's pod range for process-runtime nodes (node IPAM): 16,384 /24s. */
export const BENCH_CLUSTER_CIDR = '10.64.0.0/10';

interface Running {
  scheduler?: ComponentProcess;
  manager?: ComponentProcess;
  agents?: StartedAgents;
}

export async function runPodsBench(options: PodsBenchOptions, logger: Logger): Promise<PodsBenchReport> {
  checkPodsOptions(options);
  const startedAt = new Date();
  const running: Running = {};
  const stopStarted = async (): Promise<void> => {
    await stopAgents(running.agents?.agents ?? []);
    await running.manager?.stop();
    await running.scheduler?.stop();
  };
  return withApiServerOverStore<PodsBenchReport>(
    { store: 'k8ts', members: options.members, grpc: true, logger, stopFirst: stopStarted, troubled: (report) => report.problems.length > 0 },
    async (started) => {
      const grpc = started.grpc as string;
      const problems: string[] = [];
      const client = new ApiClient({ addresses: [grpc], callTimeoutMs: CALL_TIMEOUT_MS, fieldManager: 'k8ts-bench' });
      try {
        running.scheduler = await SchedulerProcess.start([grpc], { extraArgs: ['--leader-elect=false'] });
        if (options.runtime === 'process') {
          running.manager = await ControllerManagerProcess.start([grpc], {
            extraArgs: ['--controllers', 'nodeipam', '--allocate-node-cidrs', '--cluster-cidr', BENCH_CLUSTER_CIDR, '--leader-elect=false'],
          });
        }
        logger.info({ runtime: options.runtime, nodes: options.nodes }, 'starting node agents');
        const agentsStartedMs = Date.now();
        running.agents = await startAgents(options.runtime, options.nodes, [grpc]);
        const nodesReadyMs = await waitNodesReady(client, running.agents.nodeNames, logger);
        logger.info({ nodes: options.nodes, afterMs: Date.now() - agentsStartedMs }, 'nodes Ready');
        const pids = running.agents.agents.flatMap((agent) => (agent.pid === undefined ? [] : [agent.pid]));
        const result = await measure(client, options, pids, logger, problems);
        const nodes = await nodeHealth(client, running.agents.nodeNames);
        if (nodes.ready < options.nodes) problems.push(`${options.nodes - nodes.ready} of ${options.nodes} nodes were not Ready at the end`);
        for (const agent of running.agents.agents) if (agent.pid === undefined) problems.push(`node agent ${agent.nodeName} exited during the run:\n${agent.log.slice(-2000)}`);
        const warnings = problems.length > 0 ? Object.fromEntries(running.agents.agents.map((agent) => [`agent ${agent.nodeName}`, logWarnings(agent.log)])) : undefined;
        const report: PodsBenchReport = {
          mode: options.pods > 0 ? 'scale' : 'churn',
          runtime: options.runtime,
          nodeCount: options.nodes,
          conditions: {
            ...captureMachine(startedAt, 'one Node.js process on the same machine as the store, apiserver, scheduler and agents (it shares their cores)'),
            options,
            cluster: `${options.members} k8ts-store member(s), 1 k8ts-apiserver, 1 k8ts-scheduler${options.runtime === 'process' ? `, 1 k8ts-controller-manager (nodeipam, ${BENCH_CLUSTER_CIDR})` : ''}, started by @k8ts/testkit`,
            agentArgs: running.agents.args,
            nodesReadyAfterMs: nodesReadyMs - agentsStartedMs,
          },
          ...figures(result.measurement),
          achievedCreateRatePerSecond: result.achievedRatePerSecond,
          createErrors: result.createErrors,
          nodes,
          agent: perNode(result.usage, options.nodes),
          targets: [],
          problems,
          ...(warnings === undefined ? {} : { logWarnings: warnings }),
        };
        return { ...report, targets: podsTargets(report) };
      } finally {
        client.close();
        await stopStarted();
      }
    },
  );
}

function figures(measurement: PodsMeasurement): Pick<PodsBenchReport, 'podStartupLatencyMs' | 'schedulingLatencyMs' | 'nodeStartLatencyMs' | 'deletionLatencyMs' | 'pods' | 'allReadyMs'> {
  const pick = (summary: PodsMeasurement['startup']) => ({
    count: summary.count,
    p50: summary.p50Ms,
    p90: summary.p90Ms,
    p99: summary.p99Ms,
    max: summary.maxMs,
    mean: summary.meanMs,
  });
  return {
    podStartupLatencyMs: pick(measurement.startup),
    schedulingLatencyMs: pick(measurement.scheduling),
    nodeStartLatencyMs: pick(measurement.nodeStart),
    deletionLatencyMs: pick(measurement.deletion),
    pods: { created: measurement.created, started: measurement.started, ready: measurement.ready, failed: measurement.failed, deleted: measurement.deleted, gone: measurement.gone },
    ...(measurement.allReadyMs === undefined ? {} : { allReadyMs: measurement.allReadyMs }),
  };
}

function perNode(usage: AgentUsage, nodes: number): PodsBenchReport['agent'] {
  const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
  return {
    processes: usage.processes,
    cpuPercent: usage.cpuPercent,
    cpuPercentPerNode: Math.round((usage.cpuPercent / nodes) * 1000) / 1000,
    rssMiB: mib(usage.rssBytes),
    peakRssMiB: mib(usage.peakRssBytes),
    rssMiBPerNode: Math.round((usage.rssBytes / 2 ** 20 / nodes) * 1000) / 1000,
  };
}

interface MeasureResult {
  readonly measurement: PodsMeasurement;
  readonly usage: AgentUsage;
  readonly achievedRatePerSecond: number;
  readonly createErrors: Readonly<Record<string, number>>;
}

async function measure(client: ApiClient, options: PodsBenchOptions, agentPids: readonly number[], logger: Logger, problems: string[]): Promise<MeasureResult> {
  const namespace = `bench-pods-${Date.now().toString(36)}`;
  await client.resource<Namespace & KubeObject>('', 'v1', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const pods = client.resource<PodObject>('', 'v1', 'pods').namespace(namespace);
  const timelines = new PodTimelines();
  const informer = new SharedInformer<PodObject>(pods, { logger, pageSize: 5000 });
  informer.addEventHandler({
    onAdd: (pod) => timelines.observe(pod, Date.now()),
    onUpdate: (_old, pod) => timelines.observe(pod, Date.now()),
    onDelete: (pod) => timelines.removed(pod, Date.now()),
  });
  informer.run();
  await informer.waitForSync();
  const errors: Record<string, number> = {};
  const create = async (index: number): Promise<void> => {
    const name = `pod-${index}`;
    timelines.created(name, Date.now()); // the first attempt: a retried create's latency includes its retries
    for (let attempt = 1; ; attempt++) {
      try {
        await pods.create({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, labels: { app: 'bench-pods' } },
          spec: { containers: [{ name: 'main', image: options.image }] },
        });
        return;
      } catch (error) {
        if (isAlreadyExists(error)) return; // an attempt that timed out had created it
        const message = (error as Error).message;
        errors[message] = (errors[message] ?? 0) + 1;
        if (attempt >= CREATE_ATTEMPTS) {
          timelines.forget(name);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
      }
    }
  };
  const remove = async (index: number): Promise<void> => {
    timelines.deleteRequested(`pod-${index}`, Date.now());
    await pods.delete(`pod-${index}`).catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'delete failed'));
  };
  const sampler = new AgentSampler(agentPids);
  sampler.start();
  const progress = setInterval(() => logger.info({ created: timelines.count, bound: timelines.bound, started: timelines.started, ready: timelines.ready, gone: timelines.gone }, 'progress'), PROGRESS_EVERY_MS);
  try {
    const deadline = (): number => Date.now() + options.timeoutSeconds * 1000;
    let achievedRatePerSecond: number;
    if (options.pods > 0) {
      const startMs = Date.now();
      await forEachLimited(options.pods, options.createConcurrency, create);
      achievedRatePerSecond = (options.pods * 1000) / Math.max(1, Date.now() - startMs);
      logger.info({ pods: timelines.count, ms: Date.now() - startMs }, 'all pods created; waiting for all Ready');
      if (!(await timelines.until(() => timelines.ready >= timelines.count, deadline()))) problems.push(`${timelines.count - timelines.ready} pods not Ready within --timeout`);
      if (options.holdSeconds > 0) {
        logger.info({ seconds: options.holdSeconds }, 'holding the pods');
        await new Promise((resolve) => setTimeout(resolve, options.holdSeconds * 1000));
      }
      if (options.runtime === 'process') {
        // Real processes: the nodes stop them (the simulated ones go with their agent).
        await Promise.all(Array.from({ length: options.pods }, (_, index) => remove(index)));
        if (!(await timelines.until(() => timelines.gone >= timelines.count, deadline()))) problems.push(`${timelines.count - timelines.gone} deleted pods were not gone within --timeout`);
      }
    } else {
      achievedRatePerSecond = await churn(options, create, remove);
      if (!(await timelines.until(() => timelines.waitingToStart() === 0, deadline()))) problems.push(`${timelines.waitingToStart()} pods did not start within --timeout`);
      if (options.podLifetimeSeconds === 0) await Promise.all(Array.from({ length: options.ratePerSecond * options.durationSeconds }, (_, index) => remove(index)));
      if (!(await timelines.until(() => timelines.gone >= timelines.count, deadline()))) problems.push(`${timelines.count - timelines.gone} deleted pods were not gone within --timeout`);
    }
    const usage = sampler.stop();
    return { measurement: timelines.measurement(), usage, achievedRatePerSecond, createErrors: errors };
  } finally {
    clearInterval(progress);
    await informer.stop();
  }
}

/**
 * Creates `rate` pods a second for `duration` seconds, open loop (each on its schedule, whether or
 * not earlier ones answered, at most CHURN_MAX_IN_FLIGHT waiting), and deletes each one its
 * lifetime after its create. Resolves to the create rate achieved, once every create has answered.
 */
async function churn(options: PodsBenchOptions, create: (index: number) => Promise<void>, remove: (index: number) => Promise<void>): Promise<number> {
  const total = options.ratePerSecond * options.durationSeconds;
  const intervalMs = 1000 / options.ratePerSecond;
  const startMs = Date.now();
  const inFlight = new Set<Promise<void>>();
  const deletions: Promise<void>[] = [];
  for (let index = 0; index < total; index++) {
    const dueMs = startMs + index * intervalMs;
    const waitMs = dueMs - Date.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    while (inFlight.size >= CHURN_MAX_IN_FLIGHT) await Promise.race(inFlight);
    const created = create(index).then(() => {
      inFlight.delete(created);
      if (options.podLifetimeSeconds > 0) {
        deletions.push(new Promise((resolve) => setTimeout(resolve, options.podLifetimeSeconds * 1000)).then(() => remove(index)));
      }
    });
    inFlight.add(created);
  }
  await Promise.all(inFlight);
  const elapsedMs = Date.now() - startMs;
  await Promise.all(deletions);
  return (total * 1000) / Math.max(1, elapsedMs);
}

async function forEachLimited(count: number, limit: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

function nodeReady(node: NodeObject): boolean {
  return node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

async function listNodes(client: ApiClient): Promise<NodeObject[]> {
  const nodes: NodeObject[] = [];
  let token: string | undefined;
  do {
    const page = await client.resource<NodeObject>('', 'v1', 'nodes').list({ limit: 1000, ...(token === undefined ? {} : { continue: token }) });
    nodes.push(...page.items);
    token = page.continue;
  } while (token !== undefined);
  return nodes;
}

/** Resolves with the time every named node was Ready (polling the API); throws at the deadline. */
async function waitNodesReady(client: ApiClient, names: readonly string[], logger: Logger): Promise<number> {
  const deadline = Date.now() + NODES_READY_TIMEOUT_MS;
  const wanted = new Set(names);
  for (;;) {
    const ready = (await listNodes(client)).filter((node) => wanted.has(node.metadata?.name ?? '') && nodeReady(node)).length;
    if (ready === wanted.size) return Date.now();
    if (Date.now() > deadline) throw new Error(`only ${ready} of ${wanted.size} nodes Ready after ${NODES_READY_TIMEOUT_MS / 1000} s`);
    logger.debug({ ready, nodes: wanted.size }, 'waiting for nodes');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** At the end: how many of the nodes are Ready, and how many Leases were renewed within their duration. */
async function nodeHealth(client: ApiClient, names: readonly string[]): Promise<PodsBenchReport['nodes']> {
  const wanted = new Set(names);
  const nodes = (await listNodes(client)).filter((node) => wanted.has(node.metadata?.name ?? ''));
  const leases: (Lease & KubeObject)[] = [];
  let token: string | undefined;
  do {
    const page = await client.resource<Lease & KubeObject>('coordination.k8s.io', 'v1', 'leases').namespace('kube-node-lease').list({ limit: 1000, ...(token === undefined ? {} : { continue: token }) });
    leases.push(...page.items);
    token = page.continue;
  } while (token !== undefined);
  const now = Date.now();
  const fresh = leases.filter((lease) => {
    if (!wanted.has(lease.metadata?.name ?? '')) return false;
    const renewed = Date.parse(lease.spec?.renewTime ?? '');
    return Number.isFinite(renewed) && now - renewed <= (lease.spec?.leaseDurationSeconds ?? 40) * 1000;
  }).length;
  return { total: names.length, ready: nodes.filter(nodeReady).length, leasesFresh: fresh };
}
