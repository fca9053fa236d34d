import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { STORE_BINARY, TestCluster, waitForLeader, type StoreKind } from '@k8ts/testkit';
import type { Logger } from 'pino';
import { describeFilesystem } from './conditions.js';
import type { StoreBenchOptions } from './options.js';
import type { SuiteReport } from './results.js';
import { runSuite } from './suite.js';

const LEADER_TIMEOUT_MS = 30_000;
const LOG_WARNINGS_PER_MEMBER = 15;
const LOG_LINE_CHARS = 400;

/**
 * Starts `members` members of etcd or k8ts-store on loopback (testkit's TestCluster: the same flags
 * for both, every other setting at its default, so both fsync their WAL), runs the suite on them,
 * and stops them. A member that exits during the run, or a run that fails, is reported in
 * `problems`, with the members' logged warnings; nothing is retried.
 */
export async function runOnFreshCluster(kind: StoreKind, members: number, options: StoreBenchOptions, logger: Logger): Promise<SuiteReport> {
  checkBinary(kind);
  logger.info({ kind, members }, 'starting cluster');
  const cluster = await TestCluster.start(kind, { size: members });
  const startedWith = `${members} members of ${kind === 'etcd' ? 'etcd' : 'k8ts-store'} on 127.0.0.1 started by @k8ts/testkit, default settings (fsync on)`;
  const dataDirFilesystem = describeFilesystem(cluster.members[0]?.dataDir ?? '/tmp');
  // Interrupted mid-run: stop the members rather than leave them running.
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.warn({ kind, signal }, 'interrupted; stopping cluster');
    void cluster.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const failedReport = (problem: string): SuiteReport => ({
    target: { kind, endpoints: cluster.endpoints, targetMode: options.target, usedEndpoints: [], members: [], startedWith, dataDirFilesystem },
    warmup: { puts: 0, failed: 0, errors: {} },
    tests: [],
    problems: [problem],
  });
  try {
    let report: SuiteReport;
    try {
      await waitForLeader(cluster.endpoints, LEADER_TIMEOUT_MS);
      logger.info({ kind, endpoints: cluster.endpoints }, 'cluster has a leader');
      const memberPids = cluster.members.flatMap((member) => (member.process?.pid === undefined ? [] : [member.process.pid]));
      report = await runSuite({ kind, endpoints: cluster.endpoints, startedWith, dataDirFilesystem, memberPids }, options, logger);
    } catch (error) {
      const problem = `the run failed: ${error instanceof Error ? error.message : String(error)}`;
      logger.error({ kind, problem }, 'run failed');
      // Without a leader the members may have logged no warning at all: keep their last lines too.
      const tails = cluster.members.map((member) => `${member.name} log tail:\n${tailLines(member.log, 10).join('\n')}`);
      report = { ...failedReport(problem), problems: [problem, ...tails] };
    }
    const exited = cluster.members
      .filter((member) => member.process === undefined || member.process.exitCode !== null || member.process.signalCode !== null)
      .map((member) => `member ${member.name} exited during the run (code ${member.process?.exitCode ?? '?'}, signal ${member.process?.signalCode ?? 'none'})`);
    const memberLogWarnings = Object.fromEntries(cluster.members.map((member) => [member.name, logWarnings(member.log)]));
    return { ...report, problems: [...report.problems, ...exited], memberLogWarnings };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    logger.info({ kind }, 'stopping cluster');
    await cluster.stop();
  }
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
  const found = (process.env['PATH'] ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) throw new Error(`${binary} is not on PATH: install Debian's etcd-server (apt-get install etcd-server)`);
}
