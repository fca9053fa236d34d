/**
 * Store members and one k8ts-apiserver over them, started for a benchmark run and stopped after it
 * (also on SIGINT/SIGTERM): what `k8ts bench apiserver` and `k8ts bench scheduler` stand on when no
 * --server is given. Members that exit during the run become problems; a troubled run carries the
 * processes' logged warnings.
 */
import { existsSync } from 'node:fs';
import { APISERVER_BINARY, ApiServerProcess, TestCluster, freePorts, waitForLeader, type StoreKind } from '@k8ts/testkit';
import type { Logger } from 'pino';
import { checkBinary, logWarnings } from './clusters.js';
import { describeFilesystem } from './conditions.js';
import { childPidsMatching } from './processes.js';

const LEADER_TIMEOUT_MS = 30_000;

export interface ApiServerOverStore {
  readonly apiserver: ApiServerProcess;
  /** The apiserver's gRPC address, when asked for. */
  readonly grpc: string | undefined;
  readonly storeName: 'etcd' | 'k8ts-store';
  readonly storeEndpoints: readonly string[];
  readonly storePids: readonly number[];
  readonly apiserverPids: readonly number[];
  readonly dataDirFilesystem: string;
}

export interface ApiServerOverStoreSetup<R> {
  readonly store: StoreKind;
  readonly members: number;
  /** Serve the components' gRPC API too. */
  readonly grpc: boolean;
  readonly logger: Logger;
  /** Stops what the run itself started on top (a scheduler), before the apiserver and store. */
  readonly stopFirst?: () => Promise<void>;
  /** Troubles of the report beyond its problems (failed requests): they bring the logs in too. */
  readonly troubled?: (report: R) => boolean;
}

interface BenchOutcome {
  readonly problems: readonly string[];
  readonly logWarnings?: Readonly<Record<string, readonly string[]>>;
}

export async function withApiServerOverStore<R extends BenchOutcome>(setup: ApiServerOverStoreSetup<R>, run: (started: ApiServerOverStore) => Promise<R>): Promise<R> {
  const { logger } = setup;
  checkBinary(setup.store);
  if (!existsSync(APISERVER_BINARY)) throw new Error(`${APISERVER_BINARY} is missing: build the workspace first (pnpm build)`);
  const storeName = setup.store === 'etcd' ? 'etcd' : 'k8ts-store';
  logger.info({ members: setup.members, store: storeName }, 'starting store members');
  const cluster = await TestCluster.start(setup.store, { size: setup.members });
  let apiserver: ApiServerProcess | undefined;
  const stopFirst = setup.stopFirst ?? (() => Promise.resolve());
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.warn({ signal }, 'interrupted; stopping the processes this run started');
    void stopFirst()
      .finally(() => apiserver?.stop())
      .finally(() => cluster.stop())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await waitForLeader(cluster.endpoints, LEADER_TIMEOUT_MS);
    const grpcPort = setup.grpc ? (await freePorts(1))[0] : undefined;
    apiserver = await ApiServerProcess.start(cluster.endpoints, grpcPort === undefined ? {} : { extraArgs: ['--grpc-port', String(grpcPort)] });
    const grpc = grpcPort === undefined ? undefined : `127.0.0.1:${grpcPort}`;
    logger.info({ server: apiserver.url, grpc, store: cluster.endpoints }, 'apiserver ready');
    const storePids = cluster.members.flatMap((member) => (member.process?.pid === undefined ? [] : [member.process.pid]));
    const report = await run({
      apiserver,
      grpc,
      storeName,
      storeEndpoints: cluster.endpoints,
      storePids,
      apiserverPids: childPidsMatching('apiserver').filter((pid) => !storePids.includes(pid)),
      dataDirFilesystem: describeFilesystem(cluster.members[0]?.dataDir ?? '/tmp'),
    });
    const exited = cluster.members
      .filter((member) => member.process === undefined || member.process.exitCode !== null || member.process.signalCode !== null)
      .map((member) => `store member ${member.name} exited during the run`);
    const troubled = exited.length > 0 || report.problems.length > 0 || (setup.troubled?.(report) ?? false);
    const warnings = troubled
      ? { ...report.logWarnings, apiserver: logWarnings(apiserver.log), ...Object.fromEntries(cluster.members.map((member) => [member.name, logWarnings(member.log)])) }
      : report.logWarnings;
    return { ...report, problems: [...report.problems, ...exited], ...(warnings === undefined ? {} : { logWarnings: warnings }) };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    logger.info('stopping the apiserver and store');
    await apiserver?.stop();
    await cluster.stop();
  }
}
