import { randomBytes } from 'node:crypto';
import { ApiClient, type KubeObject, type ResourceClient } from '@k8ts/client';
import { ControllerManagerProcess, SchedulerProcess, type ComponentProcess, type StoreKind } from '@k8ts/testkit';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import { withApiServerOverStore } from './apiserver_over_store.js';
import { captureMachine } from './conditions.js';
import { processCpuMs } from './cpu.js';
import { computeFigures, planDeployments, type ControllersBenchOptions, type ControllersFigures, type DeploymentTimeline } from './controllers_plan.js';
import type { MachineConditions } from './results.js';
import { buildNode } from './scheduler_workloads.js';

const NAMESPACE = 'bench-controllers';
const DEPLOYMENT_LABEL = 'k8ts-bench/deployment';
const NODE_CREATES_IN_FLIGHT = 32;

export interface ControllersBenchReport {
  readonly conditions: MachineConditions & { readonly store: string; readonly options: ControllersBenchOptions };
  readonly figures: ControllersFigures;
  /** Share of one core each process used over the measured window (200% is a busy 2-core machine). */
  readonly cpuPercent: Readonly<Record<string, number>>;
  readonly measuredSeconds: number;
  /** What held the pod creation rate, read from the figures (see `capOf`). */
  readonly cap: string;
  readonly problems: readonly string[];
}

/**
 * Runs `k8ts bench controllers`: store members and one k8ts-apiserver, `nodes` simulated Node
 * objects, one k8ts-scheduler and one k8ts-controller-manager (deployment and replicaset
 * controllers, `--kube-api-qps`/`--kube-api-burst` as given, no leader election); then the planned
 * Deployments created on schedule while one pod watch times every pod's creation and binding.
 */
export async function runControllersBench(store: StoreKind, members: number, options: ControllersBenchOptions, logger: Logger): Promise<ControllersBenchReport> {
  const plan = planDeployments(options);
  const startedAt = new Date();
  const components: ComponentProcess[] = [];
  const stopComponents = async (): Promise<void> => void (await Promise.all(components.map((component) => component.stop())));
  return withApiServerOverStore({ store, members, grpc: true, logger, stopFirst: stopComponents }, async (started) => {
    const client = new ApiClient({ addresses: [started.grpc as string] });
    try {
      await client.resource<Namespace & KubeObject>('', 'v1', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
      await createNodes(client, options.nodes, logger);
      const managerArgs = ['--controllers', 'deployment,replicaset', '--leader-elect', 'false', '--kube-api-qps', String(options.kubeApiQps), '--kube-api-burst', String(options.kubeApiBurst)];
      components.push(await SchedulerProcess.start([started.grpc as string], { extraArgs: ['--leader-elect', 'false'] }));
      components.push(await ControllerManagerProcess.start([started.grpc as string], { extraArgs: managerArgs }));
      const [scheduler, manager] = components as [ComponentProcess, ComponentProcess];
      const pids: Record<string, readonly number[]> = {
        'controller-manager': [manager.pid ?? -1],
        scheduler: [scheduler.pid ?? -1],
        apiserver: started.apiserverPids,
        [started.storeName]: started.storePids,
      };
      const cpuBefore = cpuOf(pids);
      const wallStart = performance.now();
      const timelines = await measure(client, plan, options, logger);
      const measuredMs = performance.now() - wallStart;
      const cpuAfter = cpuOf(pids);
      const cpuPercent = Object.fromEntries(Object.keys(pids).map((name) => [name, Math.round((((cpuAfter[name] ?? 0) - (cpuBefore[name] ?? 0)) / measuredMs) * 1000) / 10]));
      const figures = computeFigures(timelines);
      const problems = figures.incomplete.length > 0 ? [`${figures.incomplete.length} Deployments did not get all their pods bound within ${options.timeoutSeconds} s`] : [];
      return {
        conditions: { ...captureMachine(startedAt, 'one Node.js process on the same machine as every component'), store: `${members} ${started.storeName} members`, options },
        figures,
        cpuPercent,
        measuredSeconds: Math.round(measuredMs / 100) / 10,
        cap: capOf(figures, options, cpuPercent),
        problems,
      };
    } finally {
      client.close();
      await stopComponents();
    }
  });
}

async function createNodes(client: ApiClient, count: number, logger: Logger): Promise<void> {
  const nodes = client.resource<Node & KubeObject>('', 'v1', 'nodes');
  const runId = randomBytes(4).toString('hex');
  const now = new Date();
  for (let first = 0; first < count; first += NODE_CREATES_IN_FLIGHT) {
    const batch = Array.from({ length: Math.min(NODE_CREATES_IN_FLIGHT, count - first) }, (_, i) =>
      nodes.create(buildNode(first + i, { zones: 3, nodeCpu: '64', nodeMemory: '256Gi', nodePods: 110 }, runId, now) as Node & KubeObject),
    );
    await Promise.all(batch);
  }
  logger.info({ nodes: count }, 'simulated nodes registered');
}

function deploymentObject(name: string, replicas: number): Deployment & KubeObject {
  const labels = { [DEPLOYMENT_LABEL]: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NAMESPACE, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu: '1m', memory: '1Mi' } } }] } },
    },
  };
}

/** Creates the Deployments on schedule and follows their pods until all are bound or the timeout. */
async function measure(client: ApiClient, plan: ReturnType<typeof planDeployments>, options: ControllersBenchOptions, logger: Logger): Promise<DeploymentTimeline[]> {
  const pods: ResourceClient<Pod & KubeObject> = client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace(NAMESPACE);
  const deployments = client.resource<Deployment & KubeObject>('apps', 'v1', 'deployments').namespace(NAMESPACE);
  const timelines = new Map(plan.map((planned) => [planned.name, { planned, podCreatedAtMs: [], podBoundAtMs: [] } as DeploymentTimeline]));
  const podsAsked = plan.reduce((sum, planned) => sum + planned.replicas, 0);
  const listed = await pods.list({ limit: 1 });
  const watch = pods.watch({ resourceVersion: listed.resourceVersion });
  const start = performance.now();
  const seen = new Set<string>();
  const bound = new Set<string>();
  let boundCount = 0;
  const deadline = setTimeout(() => watch.close(), options.timeoutSeconds * 1000);
  const creates = plan.map(
    (planned) =>
      new Promise<void>((resolve) => {
        setTimeout(() => {
          const timeline = timelines.get(planned.name) as DeploymentTimeline;
          timeline.createdAtMs = performance.now() - start;
          deployments.create(deploymentObject(planned.name, planned.replicas)).then(
            () => resolve(),
            (error: unknown) => {
              logger.error({ err: error, deployment: planned.name }, 'Deployment create failed');
              resolve();
            },
          );
        }, planned.dueMs);
      }),
  );
  const progress = setInterval(() => logger.info({ created: seen.size, bound: boundCount, asked: podsAsked }, 'progress'), 5000);
  try {
    for await (const event of watch) {
      if (event.type === 'BOOKMARK' || event.type === 'DELETED') continue;
      const pod = event.object;
      const uid = pod.metadata?.uid ?? '';
      const timeline = timelines.get(pod.metadata?.labels?.[DEPLOYMENT_LABEL] ?? '');
      if (timeline === undefined) continue;
      const nowMs = performance.now() - start;
      if (!seen.has(uid)) {
        seen.add(uid);
        timeline.podCreatedAtMs.push(nowMs);
      }
      if ((pod.spec?.nodeName ?? '') !== '' && !bound.has(uid)) {
        bound.add(uid);
        timeline.podBoundAtMs.push(nowMs);
        if (++boundCount >= podsAsked) break;
      }
    }
  } finally {
    clearTimeout(deadline);
    clearInterval(progress);
    watch.close();
  }
  await Promise.all(creates);
  return [...timelines.values()];
}

function cpuOf(pids: Readonly<Record<string, readonly number[]>>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, list]) => [name, list.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0)]));
}

/**
 * What held the pod creation rate. The controller manager kept up when pods were created at
 * (nearly) the offered rate; otherwise the busiest resource is named: the whole machine when its
 * two cores were near full, else the process using the most CPU, else the API client's QPS.
 */
export function capOf(figures: ControllersFigures, options: ControllersBenchOptions, cpuPercent: Readonly<Record<string, number>>): string {
  if (figures.podsCreatedPerSecond >= options.podsPerSecond * 0.95) return `the offered rate (${options.podsPerSecond} pods/s): the controller manager kept up`;
  const total = Object.values(cpuPercent).reduce((sum, value) => sum + value, 0);
  const [busiest, busiestPercent] = Object.entries(cpuPercent).sort((a, b) => b[1] - a[1])[0] ?? ['?', 0];
  if (total >= 170) return `the machine's cores (${Math.round(total)}% of 200% in the measured processes; busiest: ${busiest} ${busiestPercent}%)`;
  if (busiestPercent >= 90) return `${busiest}, one core busy (${busiestPercent}%)`;
  return `neither CPU nor the offered rate: look at --kube-api-qps ${options.kubeApiQps} and the controller manager's workqueue metrics`;
}
