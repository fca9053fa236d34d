import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { runPodsBench } from './pods_bench.js';
import { DEFAULT_PODS_OPTIONS, type PodsBenchOptions } from './pods_options.js';
import { renderPodsReport } from './pods_report.js';
import { nonNegativeInteger } from './flag_parsers.js';

/**
 * `k8ts bench pods`: pod startup latency as Kubernetes' SLO defines it, at a steady churn, on
 * simulated or process-runtime nodes; or, with --pods, how many pods the nodes hold. Exit status 1
 * when the run had problems (pods that never started, nodes not Ready, an agent that exited) —
 * never for a missed target; 2 on bad flags or a run that could not start.
 */
export function podsBenchCommand(): Command {
  const d = DEFAULT_PODS_OPTIONS;
  const numeric = (flags: string, description: string, fallback?: number): Option => {
    const option = new Option(flags, description).argParser(nonNegativeInteger(flags.split(' ')[0] ?? flags));
    return fallback === undefined ? option : option.default(fallback);
  };
  return new Command('pods')
    .description(
      "pod startup latency (created → all containers started, seen by a watch; Kubernetes' SLO: p99 ≤ 5 s) at a steady churn of " +
        '--rate pods/s created and deleted, on --simulated-nodes N (one k8ts-node-agent --runtime simulated) or --nodes N process-runtime ' +
        "agents, with the agents' CPU and memory per node. --pods N instead creates N pods at once and reports the time until all are Ready " +
        "and the agents' memory (e.g. --simulated-nodes 1000 --pods 30000). Starts its own store, apiserver, scheduler and agents.",
    )
    .addOption(numeric('--simulated-nodes <n>', 'simulated nodes, all in one agent process (default 100 when --nodes is not given)'))
    .addOption(numeric('--nodes <n>', 'process-runtime nodes: one agent process each'))
    .addOption(numeric('--rate <n>', 'pods created per second (and deleted, after --pod-lifetime)', d.ratePerSecond))
    .addOption(numeric('--duration <seconds>', 'how long pods are created', d.durationSeconds))
    .addOption(numeric('--pod-lifetime <seconds>', 'each pod is deleted this long after its create (0: all at the end)', d.podLifetimeSeconds))
    .addOption(numeric('--pods <n>', 'scale mode: create this many pods at once and wait for all Ready', d.pods))
    .addOption(numeric('--hold <seconds>', 'scale mode: hold the pods this long before checking the nodes and leases', d.holdSeconds))
    .addOption(numeric('--create-concurrency <n>', 'scale mode: creates in flight at once', d.createConcurrency))
    .option('--image <image>', "the pods' image", d.image)
    .addOption(numeric('--timeout <seconds>', 'how long to wait for pods to start (and to go)', d.timeoutSeconds))
    .addOption(numeric('--members <n>', 'store members under the apiserver', d.members))
    .option('--json', 'print the report as one JSON object (logs go to stderr either way)', false)
    .addOption(new Option('--log-level <level>', 'progress log level (stderr)').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info'))
    .action(async (flags: Record<string, unknown>) => {
      const logger = pino({ level: String(flags['logLevel']), base: { component: 'bench' } }, pino.destination(2));
      const report = await runPodsBench(podsOptionsFrom(flags), logger);
      process.stdout.write(flags['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : `${renderPodsReport(report)}\n`);
      process.exitCode = report.problems.length > 0 ? 1 : 0;
    });
}

export function podsOptionsFrom(flags: Record<string, unknown>): PodsBenchOptions {
  const simulated = flags['simulatedNodes'];
  const process = flags['nodes'];
  if (simulated !== undefined && process !== undefined) throw new InvalidArgumentError('give --simulated-nodes or --nodes, not both: each run is on one kind of node');
  const count = (name: string): number => Number(flags[name]);
  return {
    runtime: process !== undefined ? 'process' : 'simulated',
    nodes: Number(process ?? simulated ?? 100),
    ratePerSecond: count('rate'),
    durationSeconds: count('duration'),
    podLifetimeSeconds: count('podLifetime'),
    pods: count('pods'),
    holdSeconds: count('hold'),
    createConcurrency: count('createConcurrency'),
    image: String(flags['image']),
    timeoutSeconds: count('timeout'),
    members: count('members'),
  };
}
