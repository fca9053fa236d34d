import { Command, Option } from 'commander';
import { pino } from 'pino';
import { CHECK_PERF_LOADS, renderCheckPerfReport, runCheckPerfBench, type CheckPerfLoad, type CheckPerfOptions } from './checkperf_bench.js';
import { positiveInteger } from './flag_parsers.js';

/**
 * `k8ts bench check-perf`: etcd's own pass/fail load check on k8ts-store and etcd 3.4, alternating.
 * Exit status 1 when a run could not be made (a FAIL of the check itself is a figure, not an error);
 * 2 on bad flags.
 */
export function checkPerfBenchCommand(): Command {
  return new Command('check-perf')
    .description(
      'runs `etcdctl check perf --load=<load>` (60 s of puts from etcdctl: s 50 clients at 150 writes/s, m 200 at 1,000, l 500 at 8,000, ' +
        'xl 1,000 at 15,000; PASS needs 90% of the rate, the slowest request under 0.5 s and a stddev under 0.1 s) on fresh members of ' +
        'k8ts-store and of etcd 3.4, --runs times each, alternating, and prints both with k8ts/etcd and the members\' CPU',
    )
    .addOption(new Option('--load <load>', 'check perf load profile').choices([...CHECK_PERF_LOADS]).default('l'))
    .addOption(new Option('--runs <n>', 'runs of each store').argParser(positiveInteger('--runs')).default(3))
    .addOption(new Option('--members <n>', 'cluster size').argParser(positiveInteger('--members')).default(3))
    .option('--json', 'print the report as one JSON object (progress goes to stderr either way)', false)
    .addOption(new Option('--log-level <level>', 'progress log level (stderr)').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info'))
    .action(async (flags: Record<string, unknown>) => {
      const logger = pino({ level: String(flags['logLevel']), base: { component: 'bench' } }, pino.destination(2));
      const options: CheckPerfOptions = { load: flags['load'] as CheckPerfLoad, runs: Number(flags['runs']), members: Number(flags['members']) };
      const report = await runCheckPerfBench(options, logger);
      process.stdout.write(flags['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : `${renderCheckPerfReport(report)}\n`);
      process.exitCode = report.runs.some((run) => run.problem !== undefined) ? 1 : 0;
    });
}
