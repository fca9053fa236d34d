import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { STORE_BINARY, TestCluster, waitForLeader, type StoreKind } from '@k8ts/testkit';
import type { Logger } from 'pino';
import { describeFilesystem } from './conditions.js';
import type { StoreBenchOptions } from './options.js';
import type { SuiteReport } from './results.js';
import type { SuiteTarget } from './suite.js';

const LEADER_TIMEOUT_MS = 30_000;
const LOG_WARNINGS_PER_MEMBER = 15;
const LOG_LINE_CHARS = 400;

/**
 * A cluster this run started: `members` members of etcd or k8ts-store on loopback (testkit's
 * TestCluster: the same flags for both, every other setting at its default, so both fsync their WAL).
 */
export class BenchCluster {
  private constructor(
    readonly kind: StoreKind,
    private readonly cluster: TestCluster,
    readonly target: SuiteTarget,
    private readonly logger: Logger,
  ) {}

  /** Starts the members and waits for a leader; stops them again if there is none. */
  static async start(kind: StoreKind, members: number, logger: Logger): Promise<BenchCluster> {
    checkBinary(kind);
    logger.info({ kind, members }, 'starting cluster');
    const cluster = await TestCluster.start(kind, { size: members });
    try {
      await waitForLeader(cluster.endpoints, LEADER_TIMEOUT_MS);
    } catch (error) {
      const tails = cluster.members.map((member) => `${member.name} log tail:\n${tailLines(member.log, 10).join('\n')}`);
      await cluster.stop();
      throw new Error(`${kind}: ${error instanceof Error ? error.message : String(error)}\n${tails.join('\n')}`);
    }
    logger.info({ kind, endpoints: cluster.endpoints }, 'cluster has a leader');
    const target: SuiteTarget = {
      kind,
      endpoints: cluster.endpoints,
      startedWith: `${members} members of ${kind === 'etcd' ? 'etcd' : 'k8ts-store'} on 127.0.0.1 started by @k8ts/testkit, default settings (fsync on)`,
      dataDirFilesystem: describeFilesystem(cluster.members[0]?.dataDir ?? '/tmp'),
      memberPids: cluster.members.flatMap((member) => (member.process?.pid === undefined ? [] : [member.process.pid])),
    };
    return new BenchCluster(kind, cluster, target, logger);
  }

  /** What a run that never reached the tests reports: the target as started, nothing measured. */
  emptyReport(options: StoreBenchOptions): SuiteReport {
    const { kind, endpoints, startedWith, dataDirFilesystem } = this.target;
    return {
      target: { kind, endpoints, targetMode: options.target, usedEndpoints: [], members: [], ...(startedWith ? { startedWith } : {}), ...(dataDirFilesystem ? { dataDirFilesystem } : {}) },
      warmup: { puts: 0, failed: 0, errors: {} },
      tests: [],
      problems: [],
    };
  }

  /**
   * The report with what went wrong: the run's failure (with the last lines of each member's log,
   * since members without a leader may have logged no warning), any member that exited, and the
   * warnings the members logged.
   */
  finish(report: SuiteReport, failure?: string): SuiteReport {
    const members = this.cluster.members;
    const failed = failure === undefined ? [] : [failure, ...members.map((member) => `${member.name} log tail:\n${tailLines(member.log, 10).join('\n')}`)];
    const exited = members
      .filter((member) => member.process === undefined || member.process.exitCode !== null || member.process.signalCode !== null)
      .map((member) => `member ${member.name} exited during the run (code ${member.process?.exitCode ?? '?'}, signal ${member.process?.signalCode ?? 'none'})`);
    const memberLogWarnings = Object.fromEntries(members.map((member) => [member.name, logWarnings(member.log)]));
    return { ...report, problems: [...report.problems, ...failed, ...exited], memberLogWarnings };
  }

  async stop(): Promise<void> {
    this.logger.info({ kind: this.kind }, 'stopping cluster');
    await this.cluster.stop();
  }
}

/**
 * Until the returned function is called, SIGINT or SIGTERM stops the clusters `running()` gives
 * (members this run started) and exits 130, rather than leave the members running; `interrupted`
 * first stops what else the run started (a client process).
 */
export function stopClustersOnSignal(running: () => readonly BenchCluster[], logger: Logger, interrupted?: () => void): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.warn({ signal }, 'interrupted; stopping clusters');
    interrupted?.();
    void Promise.allSettled(running().map((cluster) => cluster.stop())).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
}

function tailLines(log: string, count: number): string[] {
  return log
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .slice(-count)
    .map((line) => (line.length > LOG_LINE_CHARS ? `${line.slice(0, LOG_LINE_CHARS)}…` : line));
}

/** Warning-or-worse lines of a member's log: pino/zap JSON (level ≥ warn) or etcd's capnslog ("W |"). */
export function logWarnings(log: string, limit = LOG_WARNINGS_PER_MEMBER): string[] {
  const kept = log.split('\n').filter((line) => {
    const trimmed = line.trim();
    if (trimmed.startsWith('{')) {
      try {
        const level = (JSON.parse(trimmed) as { level?: unknown }).level;
        if (typeof level === 'number') return level >= 40;
        return typeof level === 'string' && ['warn', 'error', 'dpanic', 'panic', 'fatal'].includes(level);
      } catch {
        return false; // the first line of a log kept from its middle may be cut
      }
    }
    return / [WEC] \| /.test(trimmed);
  });
  return kept.slice(-limit).map((line) => (line.length > LOG_LINE_CHARS ? `${line.slice(0, LOG_LINE_CHARS)}…` : line));
}

/** Throws with what to install when the store's binary (k8ts-store, or etcd on PATH) is missing. */
export function checkBinary(kind: StoreKind): void {
  const binary = STORE_BINARY[kind];
  if (binary.includes('/')) {
    if (!existsSync(binary)) throw new Error(`${binary} is missing: build the workspace first (npx tsc -b after pnpm install)`);
    return;
  }
  checkOnPath(binary, 'etcd-server');
}

/** Throws with the Debian package to install when `program` is not on PATH. */
export function checkOnPath(program: string, debianPackage: string): void {
  const found = (process.env['PATH'] ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) throw new Error(`${program} is not on PATH: install Debian's ${debianPackage} (apt-get install ${debianPackage})`);
}
