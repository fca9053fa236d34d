import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { parseEndpoints } from './endpoints.js';
import { DEFAULT_OPTIONS, TEST_NAMES, type StoreBenchOptions, type TestName } from './options.js';
import { renderReport } from './report.js';
import { hasTrouble, runStoreBench, type StoreBenchMode } from './store_bench.js';
import { nonNegativeInteger } from './flag_parsers.js';

const testList = (value: string): TestName[] => {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!(TEST_NAMES as readonly string[]).includes(name)) throw new InvalidArgumentError(`unknown test ${name} (tests: ${TEST_NAMES.join(', ')})`);
  }
  return names as TestName[];
};

/**
 * `k8ts bench store`: a load generator on the etcd v3 gRPC API, shaped after etcd's `benchmark`
 * tool (its flag names where it has one). Exit status 1 when any request failed, any answer broke
 * the API's promises, or a member got into trouble; 2 on bad flags or a run that could not start.
 */
export function storeBenchCommand(): Command {
  const d = DEFAULT_OPTIONS;
  const numeric = (flags: string, description: string, fallback: number): Option =>
    new Option(flags, description).default(fallback).argParser(nonNegativeInteger(flags.split(' ')[0] ?? flags));
  return new Command('store')
    .description(
      'benchmark an etcd-compatible store over the etcd v3 gRPC API: sequential and concurrent puts, linearizable and ' +
        'serializable ranges, watch fan-out. --vs-etcd starts k8ts-store and real etcd side by side, runs each test on one and then the other, ' +
          'round after round, and prints both with k8ts/etcd. ' +
        'Note: the KV tests write --key-size keys at the root of the key space, as etcd\'s benchmark does.',
    )
    .option('--endpoints <list>', 'etcd v3 endpoints (host:port, comma-separated; loopback only)')
    .option('--vs-etcd', 'start k8ts-store members and real etcd 3.4 members, run every test on both in turn, stop them; print both and the ratios', false)
    .addOption(numeric('--members <n>', 'cluster size for --vs-etcd', 3))
    .option('--json', 'print the report as JSON (logs go to stderr either way)', false)
    .addOption(new Option('--tests <list>', `tests to run (${TEST_NAMES.join(',')})`).default([...d.tests], 'all but watch-knee').argParser(testList))
    .addOption(new Option('--target <where>', "'all' spreads connections over every endpoint; 'leader' puts them on the leader").choices(['all', 'leader']).default(d.target))
    .addOption(numeric('--sequential-total <n>', 'puts in put-sequential (1 client, 1 conn)', d.sequentialTotal))
    .addOption(numeric('--total <n>', 'puts in put-concurrent', d.total))
    .addOption(numeric('--range-total <n>', 'reads in each range test', d.rangeTotal))
    .addOption(numeric('--clients <n>', 'concurrent clients (put-concurrent, range tests)', d.clients))
    .addOption(numeric('--conns <n>', 'gRPC connections the clients share', d.conns))
    .addOption(numeric('--key-size <bytes>', 'key size', d.keySizeBytes))
    .addOption(numeric('--val-size <bytes>', 'value size', d.valueSizeBytes))
    .addOption(numeric('--key-space-size <n>', 'distinct keys the tests choose from', d.keySpaceSize))
    .option('--sequential-keys', 'keys in order (modulo the key space) instead of at random', d.sequentialKeys)
    .addOption(numeric('--watchers <n>', 'watchers on the watch prefix', d.watchers))
    .addOption(numeric('--watch-streams <n>', 'gRPC watch streams the watchers share', d.watchStreams))
    .addOption(numeric('--watch-puts <n>', 'puts under the watched prefix', d.watchPuts))
    .addOption(numeric('--watch-put-rate <n>', 'puts per second in the watch test (0: back to back); watch-knee starts there', d.watchPutRate))
    .addOption(numeric('--watch-knee-seconds <n>', 'watch-knee: seconds of puts at each rate', d.watchKneeSeconds))
    .addOption(numeric('--watch-knee-max-rate <n>', 'watch-knee: the highest put rate tried (rates double up to it)', d.watchKneeMaxRate))
    .addOption(numeric('--warmup <n>', 'unmeasured puts before the tests (half from one client), and n/4 reads of each kind: a fresh k8ts-store member needs thousands of writes to JIT-compile its path', d.warmupPuts))
    .addOption(numeric('--rounds <n>', 'times each test runs; with --vs-etcd each round runs every test on k8ts-store and on etcd in turn, the first of the two alternating', d.rounds))
    .addOption(numeric('--max-seconds <n>', 'time limit per test', d.maxSecondsPerTest))
    .addOption(numeric('--request-timeout <ms>', 'deadline of each request', d.requestTimeoutMs))
    .addOption(numeric('--max-errors <n>', 'a test stops after this many failed requests', d.maxErrors))
    .addOption(numeric('--seed <n>', 'seed of the key and value PRNG', d.seed))
    .addOption(new Option('--log-level <level>', 'progress log level (stderr)').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info'))
    .action(async (flags: Record<string, unknown>) => {
      process.exitCode = await run(flags);
    });
}

async function run(flags: Record<string, unknown>): Promise<number> {
  const logger = pino({ level: String(flags['logLevel']), base: { component: 'bench' } }, pino.destination(2));
  let mode: StoreBenchMode;
  if (flags['vsEtcd'] === true) {
    if (flags['endpoints'] !== undefined) throw new InvalidArgumentError('give --endpoints or --vs-etcd, not both');
    const members = Number(flags['members']);
    if (members < 1) throw new InvalidArgumentError('--members must be at least 1');
    mode = { kind: 'vs-etcd', members };
  } else if (typeof flags['endpoints'] === 'string') {
    mode = { kind: 'endpoints', endpoints: parseEndpoints(flags['endpoints']) };
  } else {
    throw new InvalidArgumentError('give --endpoints host:port,… or --vs-etcd');
  }
  const report = await runStoreBench(mode, optionsFrom(flags), logger);
  process.stdout.write(flags['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`);
  return hasTrouble(report) ? 1 : 0;
}

export function optionsFrom(flags: Record<string, unknown>): StoreBenchOptions {
  const count = (name: string): number => Number(flags[name]);
  return {
    tests: flags['tests'] as TestName[],
    warmupPuts: count('warmup'),
    rounds: count('rounds'),
    sequentialTotal: count('sequentialTotal'),
    total: count('total'),
    rangeTotal: count('rangeTotal'),
    clients: count('clients'),
    conns: count('conns'),
    keySizeBytes: count('keySize'),
    valueSizeBytes: count('valSize'),
    keySpaceSize: count('keySpaceSize'),
    sequentialKeys: flags['sequentialKeys'] === true,
    watchers: count('watchers'),
    watchStreams: count('watchStreams'),
    watchPuts: count('watchPuts'),
    watchPutRate: count('watchPutRate'),
    watchKneeSeconds: count('watchKneeSeconds'),
    watchKneeMaxRate: count('watchKneeMaxRate'),
    maxSecondsPerTest: count('maxSeconds'),
    requestTimeoutMs: count('requestTimeout'),
    maxErrors: count('maxErrors'),
    seed: count('seed'),
    target: flags['target'] === 'leader' ? 'leader' : 'all',
  };
}
