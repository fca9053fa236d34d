import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { runApiServerBench, type ApiServerBenchMode } from './apiserver_bench.js';
import { API_TEST_NAMES, DEFAULT_API_OPTIONS, type ApiServerBenchOptions, type ApiTestName } from './apiserver_options.js';
import { renderApiReport } from './apiserver_report.js';
import { hasApiTrouble } from './apiserver_results.js';
import { nonNegativeInteger } from './flag_parsers.js';

const testList = (value: string): ApiTestName[] => {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!(API_TEST_NAMES as readonly string[]).includes(name)) throw new InvalidArgumentError(`unknown test ${name} (tests: ${API_TEST_NAMES.join(', ')})`);
  }
  return names as ApiTestName[];
};

/**
 * `k8ts bench apiserver`: single-object create/get/update latency (p50/p99) under an open-loop
 * rate, and watch fan-out throughput, on the Kubernetes REST API. Exit status 1 when a request
 * failed, a watch event went missing or came wrong, or a process got into trouble — never for a
 * missed target; 2 on bad flags or a run that could not start.
 */
export function apiserverBenchCommand(): Command {
  const d = DEFAULT_API_OPTIONS;
  const numeric = (flags: string, description: string, fallback: number): Option =>
    new Option(flags, description).default(fallback).argParser(nonNegativeInteger(flags.split(' ')[0] ?? flags));
  return new Command('apiserver')
    .description(
      'benchmark the API server over its Kubernetes REST API: open-loop ConfigMap create, get and update at --rate (latency from each ' +
        "request's due time), then watch fan-out to --watchers watches. Starts 3 store members (k8ts-store, or etcd with --store etcd) and one " +
        'k8ts-apiserver unless --server is given.',
    )
    .option('--server <url>', 'a running apiserver (http:// or https://, no authentication) instead of starting one')
    .addOption(numeric('--members <n>', 'store members to start (without --server)', 3))
    .addOption(new Option('--store <kind>', 'the store to start under the apiserver (without --server): k8ts-store, or a real etcd 3.4 to compare').choices(['k8ts', 'etcd']).default('k8ts'))
    .option('--json', 'print the report as JSON (logs go to stderr either way)', false)
    .addOption(new Option('--tests <list>', `tests to run (${API_TEST_NAMES.join(',')})`).default([...d.tests], 'all but watch-knee').argParser(testList))
    .addOption(numeric('--rate <n>', 'requests per second of each of create, get, update', d.ratePerSecond))
    .addOption(numeric('--duration <seconds>', 'seconds each of create, get, update runs', d.durationSeconds))
    .addOption(numeric('--value-size <bytes>', "bytes of each ConfigMap's data value", d.valueSizeBytes))
    .addOption(numeric('--connections <n>', 'keep-alive connections the requests share', d.connections))
    .addOption(numeric('--max-in-flight <n>', 'requests outstanding at most (a send beyond waits, and the wait counts)', d.maxInFlight))
    .addOption(numeric('--warmup <n>', 'unmeasured requests before the tests (a third each of create, get, update)', d.warmupRequests))
    .addOption(numeric('--watchers <n>', 'HTTP watches on the watched namespace', d.watchers))
    .addOption(numeric('--watch-writes <n>', 'ConfigMaps created in the watched namespace', d.watchWrites))
    .addOption(numeric('--watch-rate <n>', 'creates per second in the watch test', d.watchRatePerSecond))
    .addOption(numeric('--watch-drain <seconds>', 'how long to wait after the last create for every event', d.watchDrainSeconds))
    .addOption(numeric('--watch-knee-seconds <n>', 'watch-knee: seconds of creates at each rate (from --watch-rate, doubling)', d.watchKneeSeconds))
    .addOption(numeric('--watch-knee-max-rate <n>', 'watch-knee: the highest create rate tried', d.watchKneeMaxRate))
    .addOption(numeric('--request-timeout <ms>', 'deadline of each request', d.requestTimeoutMs))
    .addOption(numeric('--max-errors <n>', 'a test stops sending after this many failed requests', d.maxErrors))
    .addOption(numeric('--seed <n>', 'seed of the ConfigMap value', d.seed))
    .addOption(new Option('--log-level <level>', 'progress log level (stderr)').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info'))
    .action(async (flags: Record<string, unknown>) => {
      process.exitCode = await run(flags);
    });
}

async function run(flags: Record<string, unknown>): Promise<number> {
  const logger = pino({ level: String(flags['logLevel']), base: { component: 'bench' } }, pino.destination(2));
  let mode: ApiServerBenchMode;
  if (typeof flags['server'] === 'string') {
    mode = { kind: 'server', url: flags['server'] };
  } else {
    const members = Number(flags['members']);
    if (members < 1) throw new InvalidArgumentError('--members must be at least 1');
    mode = { kind: 'start', members, store: flags['store'] === 'etcd' ? 'etcd' : 'k8ts' };
  }
  const report = await runApiServerBench(mode, apiOptionsFrom(flags), logger);
  process.stdout.write(flags['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : `${renderApiReport(report)}\n`);
  return hasApiTrouble(report) ? 1 : 0;
}

export function apiOptionsFrom(flags: Record<string, unknown>): ApiServerBenchOptions {
  const count = (name: string): number => Number(flags[name]);
  return {
    tests: flags['tests'] as ApiTestName[],
    ratePerSecond: count('rate'),
    durationSeconds: count('duration'),
    valueSizeBytes: count('valueSize'),
    connections: count('connections'),
    maxInFlight: count('maxInFlight'),
    warmupRequests: count('warmup'),
    watchers: count('watchers'),
    watchWrites: count('watchWrites'),
    watchRatePerSecond: count('watchRate'),
    watchDrainSeconds: count('watchDrain'),
    watchKneeSeconds: count('watchKneeSeconds'),
    watchKneeMaxRate: count('watchKneeMaxRate'),
    requestTimeoutMs: count('requestTimeout'),
    maxErrors: count('maxErrors'),
    seed: count('seed'),
  };
}
