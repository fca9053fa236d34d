import { Command, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { runControllersBench, type ControllersBenchReport } from './controllers_bench.js';
import { DEFAULT_CONTROLLERS_OPTIONS, DEPLOYMENT_SIZES, type ControllersBenchOptions } from './controllers_plan.js';
import { formatNumber, table } from './report.js';

const positive = (flag: string, integer: boolean) => (value: string): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || (integer && !Number.isInteger(parsed))) throw new InvalidArgumentError(`${flag} takes a non-negative ${integer ? 'integer' : 'number'}`);
  return parsed;
};

/**
 * `k8ts bench controllers`: how fast the controller manager turns Deployments into pods, with
 * clusterloader2's load shape. Exit status 1 when Deployments did not get all their pods bound
 * before the timeout; 2 on bad flags.
 */
export function controllersBenchCommand(): Command {
  const d = DEFAULT_CONTROLLERS_OPTIONS;
  const numeric = (flags: string, description: string, fallback: number, integer = true): Option =>
    new Option(flags, description).default(fallback).argParser(positive(flags.split(' ')[0] ?? flags, integer));
  return new Command('controllers')
    .description(
      `benchmark the controller manager with clusterloader2's load shape: Deployments of ${DEPLOYMENT_SIZES.small}, ${DEPLOYMENT_SIZES.medium} and ` +
        `${DEPLOYMENT_SIZES.big} replicas created so that their pods are asked for at --pod-rate, over --nodes simulated Node objects, with ` +
        'k8ts-scheduler and k8ts-controller-manager (deployment, replicaset) over one k8ts-apiserver and the store; reports pods created per ' +
        'second and each Deployment\'s time from create to all its pods created and bound (p50/p99), the CPU of every process, and what capped the rate.',
    )
    .addOption(numeric('--small <n>', `Deployments of ${DEPLOYMENT_SIZES.small} replicas`, d.small))
    .addOption(numeric('--medium <n>', `Deployments of ${DEPLOYMENT_SIZES.medium} replicas`, d.medium))
    .addOption(numeric('--big <n>', `Deployments of ${DEPLOYMENT_SIZES.big} replicas`, d.big))
    .addOption(numeric('--pod-rate <pods/s>', 'pods asked for per second (clusterloader2 runs 5k-node CI at 50)', d.podsPerSecond, false))
    .addOption(numeric('--nodes <n>', 'simulated nodes to register', d.nodes))
    .addOption(numeric('--kube-api-qps <qps>', "the controller manager's --kube-api-qps (kube's default 20 lifted)", d.kubeApiQps, false))
    .addOption(numeric('--kube-api-burst <n>', "the controller manager's --kube-api-burst", d.kubeApiBurst))
    .addOption(numeric('--timeout <seconds>', 'how long to wait for every pod to be bound', d.timeoutSeconds))
    .addOption(numeric('--seed <n>', 'order of the Deployments', d.seed))
    .addOption(numeric('--members <n>', 'store members to start', 3))
    .addOption(new Option('--store <kind>', 'the store under the apiserver: k8ts-store, or a real etcd 3.4').choices(['k8ts', 'etcd']).default('k8ts'))
    .option('--json', 'print the report as JSON (logs go to stderr either way)', false)
    .addOption(new Option('--log-level <level>', 'progress log level (stderr)').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info'))
    .action(async (flags: Record<string, unknown>) => {
      const logger = pino({ level: String(flags['logLevel']), base: { component: 'bench' } }, pino.destination(2));
      const options: ControllersBenchOptions = {
        small: Number(flags['small']),
        medium: Number(flags['medium']),
        big: Number(flags['big']),
        podsPerSecond: Number(flags['podRate']),
        nodes: Number(flags['nodes']),
        kubeApiQps: Number(flags['kubeApiQps']),
        kubeApiBurst: Number(flags['kubeApiBurst']),
        timeoutSeconds: Number(flags['timeout']),
        seed: Number(flags['seed']),
      };
      const report = await runControllersBench(flags['store'] === 'etcd' ? 'etcd' : 'k8ts', Number(flags['members']), options, logger);
      process.stdout.write(flags['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : `${renderControllersReport(report)}\n`);
      process.exitCode = report.problems.length > 0 ? 1 : 0;
    });
}

export function renderControllersReport(report: ControllersBenchReport): string {
  const { figures, conditions } = report;
  const o = conditions.options;
  const lines = [
    `k8ts bench controllers — ${conditions.startedAt}, ${conditions.cpuCores} cores (${conditions.cpuModel}), load ${conditions.loadAverage1m}, ${conditions.nodeVersion}`,
    `store: ${conditions.store}; ${o.nodes} simulated nodes; Deployments: ${o.small}×${DEPLOYMENT_SIZES.small}, ${o.medium}×${DEPLOYMENT_SIZES.medium}, ${o.big}×${DEPLOYMENT_SIZES.big} ` +
      `(${figures.podsAsked} pods) asked at ${o.podsPerSecond} pods/s; controller manager --kube-api-qps ${o.kubeApiQps} --kube-api-burst ${o.kubeApiBurst}`,
    '',
    `pods created: ${figures.podsCreated}/${figures.podsAsked} at ${formatNumber(figures.podsCreatedPerSecond)} pods/s; bound: ${figures.podsBound} at ${formatNumber(figures.podsBoundPerSecond)} pods/s; measured ${report.measuredSeconds} s`,
    '',
    ...table(
      [
        ['Deployments', 'count', 'create→all created p50 ms', 'p99 ms', 'create→all bound p50 ms', 'p99 ms'],
        ...figures.bySize.map((s) => [s.size, String(s.deployments), formatNumber(s.toAllCreated.p50Ms), formatNumber(s.toAllCreated.p99Ms), formatNumber(s.toAllBound.p50Ms), formatNumber(s.toAllBound.p99Ms)]),
      ],
      [false, true, true, true, true, true],
    ),
    '',
    `CPU (% of one core): ${Object.entries(report.cpuPercent).map(([name, percent]) => `${name} ${percent}`).join(', ')}`,
    `capped by: ${report.cap}`,
    ...report.problems.map((problem) => `PROBLEM: ${problem}`),
  ];
  return lines.join('\n');
}
