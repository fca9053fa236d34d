import type { StatusResponse } from '@k8ts/proto';
import type { Logger } from 'pino';
import { measureCpu } from './cpu.js';
import { ConnectionPool, endpointStatus } from './etcd_client.js';
import { KeyChooser, makeValue, seededRandom } from './keys.js';
import { runPutTest, runRangeTest, WrittenState, type KvTestContext } from './kv_tests.js';
import { TEST_NAMES, type StoreBenchOptions, type TestName } from './options.js';
import type { SuiteReport, TargetDescription, TestResult, WarmupReport } from './results.js';
import { runWatchKneeTest, runWatchTest } from './watch_test.js';

export interface SuiteTarget {
  readonly kind: TargetDescription['kind'];
  readonly endpoints: readonly string[];
  readonly startedWith?: string;
  readonly dataDirFilesystem?: string;
  /** The members' process ids, when this run started them: their CPU use is measured per test. */
  readonly memberPids?: readonly number[];
}

const CONNECT_TIMEOUT_MS = 10_000;
const STATUS_TIMEOUT_MS = 5_000;

/**
 * Runs the selected tests against etcd-compatible endpoints: warm-up puts, then `--rounds` rounds of
 * put-sequential, put-concurrent, range-linearizable, range-serializable, watch, watch-knee, in that
 * order. The range tests read the key space the put tests wrote. A failed request is counted, never
 * retried.
 */
export async function runSuite(target: SuiteTarget, options: StoreBenchOptions, logger: Logger): Promise<SuiteReport> {
  const session = await SuiteSession.open(target, options, logger);
  try {
    const warmup = await session.warmup();
    for (let round = 1; round <= options.rounds; round += 1) {
      for (const name of TEST_NAMES) await session.runTest(name, round);
    }
    return session.report(warmup);
  } finally {
    session.close();
  }
}

/**
 * One target's connections, key space and results, so that tests on two targets can be interleaved
 * (--vs-etcd): each target keeps its own written state for its range tests to check.
 */
export class SuiteSession {
  private readonly tests: TestResult[] = [];

  private constructor(
    private readonly target: SuiteTarget,
    readonly description: TargetDescription,
    private readonly single: ConnectionPool,
    private readonly pool: ConnectionPool,
    private readonly context: KvTestContext,
    private readonly random: () => number,
    private readonly logger: Logger,
  ) {}

  static async open(target: SuiteTarget, options: StoreBenchOptions, logger: Logger): Promise<SuiteSession> {
    const statuses = await Promise.all(target.endpoints.map((endpoint) => endpointStatus(endpoint, STATUS_TIMEOUT_MS)));
    const usedEndpoints = options.target === 'leader' ? [leaderEndpoint(target.endpoints, statuses)] : followersFirst(target.endpoints, statuses);
    const description: TargetDescription = {
      kind: target.kind,
      endpoints: target.endpoints,
      targetMode: options.target,
      usedEndpoints,
      members: target.endpoints.map((endpoint, i) => `${endpoint}: ${describeStatus(statuses[i] ?? 'no answer')}`),
      ...(target.startedWith === undefined ? {} : { startedWith: target.startedWith }),
      ...(target.dataDirFilesystem === undefined ? {} : { dataDirFilesystem: target.dataDirFilesystem }),
    };
    const single = ConnectionPool.open(usedEndpoints, 1, options.requestTimeoutMs);
    const pool = ConnectionPool.open(usedEndpoints, options.conns, options.requestTimeoutMs);
    try {
      await single.ready(CONNECT_TIMEOUT_MS);
      await pool.ready(CONNECT_TIMEOUT_MS);
    } catch (error) {
      single.close();
      pool.close();
      throw error;
    }
    const random = seededRandom(options.seed);
    const context: KvTestContext = {
      pool,
      options,
      keys: new KeyChooser({ keySizeBytes: options.keySizeBytes, keySpaceSize: options.keySpaceSize, sequential: options.sequentialKeys }, random),
      value: makeValue(options.valueSizeBytes, random),
      state: new WrittenState(options.keySpaceSize),
    };
    return new SuiteSession(target, description, single, pool, context, random, logger);
  }

  warmup(): Promise<WarmupReport> {
    return runWarmup(this.context, this.single, this.logger);
  }

  /** Runs one test (nothing when --tests leaves it out), measuring the CPU it took; round counts from 1. */
  async runTest(name: TestName, round: number): Promise<void> {
    const { context, single, target, random } = this;
    const { options, pool } = context;
    if (!options.tests.includes(name)) return;
    const runId = (): string => `${Date.now().toString(36)}-${Math.floor(random() * 1e9).toString(36)}`;
    const tests: Record<TestName, () => Promise<TestResult>> = {
      'put-sequential': () => runPutTest({ ...context, pool: single }, { name, clients: 1, conns: 1, total: options.sequentialTotal }),
      'put-concurrent': () => runPutTest(context, { name, clients: options.clients, conns: options.conns, total: options.total }),
      'range-linearizable': () => runRangeTest(context, name, false),
      'range-serializable': () => runRangeTest(context, name, true),
      watch: () => runWatchTest(pool, options, context.value, runId()),
      'watch-knee': () => runWatchKneeTest(pool, options, context.value, `${runId()}-knee`),
    };
    const startedAt = new Date().toISOString();
    const { result, cpu } = await measureCpu(target.memberPids ?? [], tests[name]);
    this.tests.push({ ...result, round, startedAt, cpu });
    this.logger.info(
      { target: target.kind, test: name, round, perSecond: Math.round(result.perSecond), p99Ms: result.latency.p99Ms, failed: result.failed, anomalies: result.anomalies.count, cpu },
      'test done',
    );
  }

  report(warmup: WarmupReport): SuiteReport {
    return { target: this.description, warmup, tests: [...this.tests], problems: [] };
  }

  close(): void {
    this.single.close();
    this.pool.close();
  }
}

/**
 * Unmeasured puts on every connection of both pools, then reads of both kinds, so no test pays for
 * connecting or for JIT: a fresh k8ts-store member runs its first thousands of writes in V8's
 * unoptimised tiers (with 100 warm-up puts, one client's puts ran at 0.52–0.61 of etcd's pace;
 * with 10,000, 0.98–1.25 — packages/etcdserver/README.md). etcd has nothing to warm.
 */
async function runWarmup(context: KvTestContext, single: ConnectionPool, logger: Logger): Promise<WarmupReport> {
  const { options } = context;
  const share = Math.ceil(options.warmupPuts / 2);
  const reads = { ...context, options: { ...options, rangeTotal: Math.ceil(options.warmupPuts / 4) } };
  const results = [
    await runPutTest({ ...context, pool: single }, { name: 'put-sequential', clients: 1, conns: 1, total: share }),
    await runPutTest(context, { name: 'put-concurrent', clients: options.conns, conns: options.conns, total: options.warmupPuts - share }),
    ...(options.warmupPuts > 0 ? [await runRangeTest(reads, 'range-linearizable', false), await runRangeTest(reads, 'range-serializable', true)] : []),
  ];
  const errors: Record<string, number> = {};
  for (const result of results) {
    for (const [message, count] of Object.entries(result.errors)) errors[message] = (errors[message] ?? 0) + count;
  }
  const report = { puts: options.warmupPuts, failed: results.reduce((sum, result) => sum + result.failed, 0), errors };
  if (report.failed > 0) logger.warn({ warmup: report }, 'warm-up puts failed');
  return report;
}

/**
 * Every endpoint, the leader last. Connection j goes to endpoint j mod n, so put-sequential's one
 * client (and the watch test's putter) sits on a follower of every store, and with --vs-etcd on
 * the same role in both: which member won the election decided it before, and a put served by the
 * leader skips the forward to it (7–30% more puts/s for one client, on both stores). With 10
 * connections over three members the followers get 4 and 3, the leader 3. Without a leader, the
 * given order.
 */
export function followersFirst(endpoints: readonly string[], statuses: readonly (StatusResponse | string)[]): string[] {
  const leaders = endpoints.filter((_, i) => reportsLeader(statuses[i]));
  return [...endpoints.filter((endpoint) => !leaders.includes(endpoint)), ...leaders];
}

function leaderEndpoint(endpoints: readonly string[], statuses: readonly (StatusResponse | string)[]): string {
  const leader = endpoints.find((_, i) => reportsLeader(statuses[i]));
  if (leader !== undefined) return leader;
  throw new Error(`--target leader: no endpoint reports itself leader (${statuses.map((status) => describeStatus(status)).join('; ')})`);
}

/** Whether the member that answered is the leader it names. */
function reportsLeader(status: StatusResponse | string | undefined): boolean {
  return status !== undefined && typeof status !== 'string' && status.header !== null && status.leader !== '0' && status.header.member_id === status.leader;
}

function describeStatus(status: StatusResponse | string): string {
  if (typeof status === 'string') return `status failed: ${status}`;
  const role = reportsLeader(status) ? 'leader' : 'follower';
  return `version ${status.version || '?'}, ${role}, raft term ${status.raftTerm}, db ${status.dbSize} bytes`;
}
