import type { StoreKind } from '@k8ts/testkit';
import type { Logger } from 'pino';
import { ApiClient } from './apiserver_http.js';
import { checkApiOptions, type ApiServerBenchOptions, type ApiTestName } from './apiserver_options.js';
import { captureApiConditions, checkTargets } from './apiserver_report.js';
import { configMapsPath, requestBodyBytes, runRequestTest, runWarmup, CreatedObjects, type RequestTestContext } from './apiserver_requests.js';
import type { ApiCpuUse, ApiServerBenchReport, ApiTargetDescription, ApiTestResult } from './apiserver_results.js';
import { runWatchFanOut, runWatchKnee } from './apiserver_watch.js';
import { withApiServerOverStore } from './apiserver_over_store.js';
import { measureCpu } from './cpu.js';
import { makeValue, seededRandom } from './keys.js';

/**
 * Start 3 (or `members`) store members — k8ts-store, or etcd to see the apiserver over the store it
 * stands in for — and one k8ts-apiserver; or load a running apiserver.
 */
export type ApiServerBenchMode =
  | { readonly kind: 'start'; readonly members: number; readonly store: StoreKind }
  | { readonly kind: 'server'; readonly url: string };

interface Processes {
  readonly apiserverPids: readonly number[];
  readonly storePids: readonly number[];
}

/**
 * Runs `k8ts bench apiserver`: a fresh namespace, unmeasured warm-up requests, then create, get,
 * update (open loops) and the watch fan-out, in that order. Processes this run started are stopped
 * at the end (also on SIGINT/SIGTERM); on a given --server the run's namespaces are deleted after.
 */
export async function runApiServerBench(mode: ApiServerBenchMode, options: ApiServerBenchOptions, logger: Logger): Promise<ApiServerBenchReport> {
  checkApiOptions(options);
  const startedAt = new Date();
  if (mode.kind === 'server') {
    return runTests({ server: mode.url, namespace: '' }, { apiserverPids: [], storePids: [] }, options, logger, startedAt, true);
  }
  return withApiServerOverStore(
    { store: mode.store, members: mode.members, grpc: false, logger, troubled: (report) => report.tests.some((test) => test.failed > 0) },
    (started) => {
      const target: ApiTargetDescription = {
        server: started.apiserver.url,
        namespace: '',
        startedWith: `1 k8ts-apiserver (plain HTTP) over ${mode.members} ${started.storeName} members on 127.0.0.1, started by @k8ts/testkit, default settings (fsync on)`,
        storeEndpoints: started.storeEndpoints,
        dataDirFilesystem: started.dataDirFilesystem,
      };
      return runTests(target, { apiserverPids: started.apiserverPids, storePids: started.storePids }, options, logger, startedAt, false);
    },
  );
}

async function runTests(
  target: ApiTargetDescription,
  processes: Processes,
  options: ApiServerBenchOptions,
  logger: Logger,
  startedAt: Date,
  cleanUp: boolean,
): Promise<ApiServerBenchReport> {
  const runId = `${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  const namespace = `k8ts-bench-${runId}`;
  const watchNamespace = `${namespace}-watch`;
  const value = makeValue(options.valueSizeBytes, seededRandom(options.seed)).toString('latin1');
  const client = new ApiClient(target.server, options.connections, options.requestTimeoutMs);
  const conditions = captureApiConditions(options, startedAt, requestBodyBytes(namespace, value));
  const tests: ApiTestResult[] = [];
  const problems: string[] = [];
  let warmup = { requests: 0, failed: 0, errors: {} as Record<string, number> };
  try {
    for (const name of [namespace, watchNamespace]) {
      await client.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { app: 'k8ts-bench' } } }, [201]);
    }
    const context: RequestTestContext = { client, options, namespace, value, objects: new CreatedObjects() };
    warmup = await runWarmup(context, options.warmupRequests);
    if (warmup.failed > 0) logger.warn({ warmup }, 'warm-up requests failed');
    const run = async (name: ApiTestName, test: () => Promise<ApiTestResult>): Promise<void> => {
      if (!options.tests.includes(name)) return;
      logger.info({ test: name }, 'test starting');
      const { result, cpu } = await measureProcesses(processes, test);
      tests.push({ ...result, cpu });
      logger.info({ test: name, perSecond: Math.round(result.perSecond), p99Ms: result.latency.p99Ms, failed: result.failed, cpu }, 'test done');
    };
    await run('create', () => runRequestTest(context, 'create'));
    await run('get', () => runRequestTest(context, 'get'));
    await run('update', () => runRequestTest(context, 'update'));
    await run('watch', () => runWatchFanOut(client, options, watchNamespace, value));
    await run('watch-knee', () => runWatchKnee(client, options, watchNamespace, value));
    const ready = await client.request('GET', '/readyz').catch((error: unknown) => ({ status: 0, body: String(error) }));
    if (ready.status !== 200) problems.push(`the apiserver is not ready after the run: ${ready.status} ${ready.body.slice(0, 200)}`);
  } catch (error) {
    const problem = `the run failed: ${error instanceof Error ? error.message : String(error)}`;
    logger.error({ problem }, 'run failed');
    problems.push(problem);
  } finally {
    if (cleanUp) await deleteNamespaces(client, [namespace, watchNamespace], logger);
    client.close();
  }
  return { conditions, target: { ...target, namespace }, warmup, tests, targets: checkTargets(tests), problems };
}

/** CPU of this process, the apiserver and the store members during `work` (the latter two when this run started them). */
async function measureProcesses<T>(processes: Processes, work: () => Promise<T>): Promise<{ result: T; cpu: ApiCpuUse }> {
  const outer = await measureCpu(processes.apiserverPids, () => measureCpu(processes.storePids, work));
  const inner = outer.result.cpu;
  const apiserverPercent = outer.cpu.membersPercent;
  const known = inner.loadGeneratorPercent + (apiserverPercent ?? 0) + (inner.membersPercent ?? 0);
  return {
    result: outer.result.result,
    cpu: {
      loadGeneratorPercent: inner.loadGeneratorPercent,
      ...(apiserverPercent === undefined ? {} : { apiserverPercent }),
      ...(inner.membersPercent === undefined ? {} : { storeMembersPercent: inner.membersPercent }),
      ...(inner.machinePercent === undefined ? {} : { machinePercent: inner.machinePercent }),
      ...(inner.machinePercent === undefined ? {} : { otherProcessesPercent: Math.max(0, Math.round((inner.machinePercent - known) * 10) / 10) }),
    },
  };
}

/** Deletes the run's ConfigMaps and namespaces on a server this run did not start; failures are logged, not fatal. */
async function deleteNamespaces(client: ApiClient, namespaces: readonly string[], logger: Logger): Promise<void> {
  for (const namespace of namespaces) {
    for (const path of [configMapsPath(namespace), `/api/v1/namespaces/${namespace}`]) {
      const answer = await client.request('DELETE', path).catch((error: unknown) => ({ status: 0, body: String(error) }));
      if (answer.status >= 300 && answer.status !== 404) logger.warn({ path, status: answer.status, body: answer.body.slice(0, 200) }, 'clean-up failed');
    }
  }
}
