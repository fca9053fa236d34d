import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { runSchedulerBench, type SchedulerBenchMode } from './scheduler_bench.js';
import { DEFAULT_SCHEDULER_OPTIONS, WORKLOAD_NAMES, type SchedulerBenchOptions, type WorkloadName } from './scheduler_options.js';
import { renderSchedulerReport } from './scheduler_report.js';
import { hasSchedulerTrouble } from './scheduler_results.js';
import { nonNegativeInteger } from './flag_parsers.js';

/**
 * `k8ts bench scheduler`: kube-scheduler's scheduler_perf on k8ts-scheduler — simulated nodes, a
 * workload's pods created first, then the scheduler started and timed until every pod is bound.
 * Exit status 1 when scheduling went wrong (a pod bound twice, a node over-committed, pods left
 * unbound, a workload rule broken), a create failed or a process got into trouble — never for a
 * missed target; 2 on bad flags or a run that could not start.
 */
export function schedulerBenchCommand(): Command {
  const d = DEFAULT_SCHEDULER_OPTIONS;
  const numeric = (flags: string, description: string, fallback: number): Option =>
    new Option(flags, description).default(fallback).argParser(nonNegativeInteger(flags.split(' ')[0] ?? flags));
  return new Command('scheduler')
    .description(
      "benchmark the scheduler after kube-scheduler's scheduler_perf: register --nodes simulated nodes (Node objects, no kubelet), create " +
        "--pods pods of a workload through the apiserver's gRPC API, then start k8ts-scheduler and measure until every pod is bound: " +
        'throughput (pods/s, with SchedulingThroughput samples), per-pod latency, FailedScheduling events, correctness checks and CPU. ' +
        'Starts 3 store members (k8ts-store, or etcd with --store etcd) and one k8ts-apiserver unless --server and --grpc are given.',
    )
    .addOption(new Option('--workload <name>', "the pods' shape, after scheduler_perf's test case of that name").choices(WORKLOAD_NAMES).default(d.workload))
    .addOption(numeric('--nodes <n>', 'simulated nodes to register', d.nodes))
    .addOption(numeric('--pods <n>', 'measured pods to schedule', d.pods))
    .addOption(numeric('--zones <n>', 'zones (topology.kubernetes.io/zone zone-0…) the nodes take round robin', d.zones))
    .option('--node-cpu <quantity>', "each node's cpu capacity and allocatable", d.nodeCpu)
    .option('--node-memory <quantity>', "each node's memory capacity and allocatable", d.nodeMemory)
    .addOption(numeric('--node-pods <n>', "each node's pod capacity and allocatable", d.nodePods))
    .addOption(numeric('--concurrency <n>', 'creates (nodes, pods) in flight at once', d.concurrency))
    .addOption(numeric('--timeout <seconds>', 'how long measurement waits for every pod to be bound', d.timeoutSeconds))
    .option('--scheduler-config <file>', "a KubeSchedulerConfiguration for the scheduler's --config")
    .option('--server <url>', 'a running apiserver (its HTTP URL, no authentication) instead of starting one; needs --grpc')
    .option('--grpc <host:port>', "the running apiserver's gRPC API address (with --server)")
    .addOption(numeric('--members <n>', 'store members to start (without --server)', 3))
    .addOption(new Option('--store <kind>', 'the store to start under the apiserver (without --server): k8ts-store, or a real etcd 3.4').choices(['k8ts', 'etcd']).default('k8ts'))
    .option('--json', 'print the report as JSON (logs go to stderr either way)', false)
    .addOption(new Option('--log-level <level>', 'progress log level (stderr)').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info'))
    .action(async (flags: Record<string, unknown>) => {
      process.exitCode = await run(flags);
    });
}

async function run(flags: Record<string, unknown>): Promise<number> {
  const logger = pino({ level: String(flags['logLevel']), base: { component: 'bench' } }, pino.destination(2));
  const report = await runSchedulerBench(schedulerModeFrom(flags), schedulerOptionsFrom(flags), logger);
  process.stdout.write(flags['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : `${renderSchedulerReport(report)}\n`);
  return hasSchedulerTrouble(report) ? 1 : 0;
}

export function schedulerModeFrom(flags: Record<string, unknown>): SchedulerBenchMode {
  const server = flags['server'];
  const grpc = flags['grpc'];
  if (typeof server === 'string' || typeof grpc === 'string') {
    if (typeof server !== 'string' || typeof grpc !== 'string') throw new InvalidArgumentError('--server and --grpc go together: the scheduler needs the gRPC API, the bench its HTTP /version');
    return { kind: 'server', url: server, grpc };
  }
  const members = Number(flags['members']);
  if (members < 1) throw new InvalidArgumentError('--members must be at least 1');
  return { kind: 'start', members, store: flags['store'] === 'etcd' ? 'etcd' : 'k8ts' };
}

export function schedulerOptionsFrom(flags: Record<string, unknown>): SchedulerBenchOptions {
  const count = (name: string): number => Number(flags[name]);
  const config = flags['schedulerConfig'];
  return {
    workload: flags['workload'] as WorkloadName,
    nodes: count('nodes'),
    pods: count('pods'),
    zones: count('zones'),
    nodeCpu: String(flags['nodeCpu']),
    nodeMemory: String(flags['nodeMemory']),
    nodePods: count('nodePods'),
    concurrency: count('concurrency'),
    timeoutSeconds: count('timeout'),
    ...(typeof config === 'string' ? { schedulerConfig: config } : {}),
  };
}
