import { Command, Option } from 'commander';
import { pino } from 'pino';
import { DEFAULT_UP_OPTIONS, renderUpReport, runUpBench, type UpBenchOptions } from './up_bench.js';
import { positiveInteger } from './flag_parsers.js';

/**
 * `k8ts bench up`: the local cluster's start-up time (to every node Ready) and idle cost (RSS, CPU),
 * over --runs runs. Exit status 1 when a run failed; 2 on bad flags.
 */
export function upBenchCommand(): Command {
  const d = DEFAULT_UP_OPTIONS;
  const numeric = (flags: string, description: string, fallback: number): Option =>
    new Option(flags, description).argParser(positiveInteger(flags.split(' ')[0] ?? flags)).default(fallback);
  return new Command('up')
    .description(
      'times `k8ts up` to every node Ready, then measures the idle cluster\'s total RSS and CPU over --idle seconds from /proc (every process of the ' +
        'cluster and the pods\' processes), over --runs runs, each in a fresh folder brought down and purged after',
    )
    .addOption(numeric('--runs <n>', 'clusters brought up, measured and purged one after another', d.runs))
    .addOption(numeric('--nodes <n>', 'process-runtime nodes (the issue\'s targets are for 3)', d.nodes))
    .addOption(numeric('--idle <seconds>', 'length of the idle measurement', d.idleSeconds))
    .addOption(numeric('--base-port <port>', 'k8ts up --base-port (clear of a cluster of your own on the default 32300)', d.basePort))
    .option('--no-store-reference', 'skip the reference after each run: three idle members of etcd 3.4 and of k8ts-store on loopback, over the same window')
    .option('--json', 'print the report as one JSON object (progress goes to stderr either way)', false)
    .addOption(new Option('--log-level <level>', 'progress log level (stderr)').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info'))
    .action(async (flags: Record<string, unknown>) => {
      const logger = pino({ level: String(flags['logLevel']), base: { component: 'bench' } }, pino.destination(2));
      const options: UpBenchOptions = { runs: Number(flags['runs']), nodes: Number(flags['nodes']), idleSeconds: Number(flags['idle']), basePort: Number(flags['basePort']), storeReference: flags['storeReference'] !== false };
      const report = await runUpBench(options, logger);
      process.stdout.write(flags['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : `${renderUpReport(report)}\n`);
      process.exitCode = report.problems.length > 0 ? 1 : 0;
    });
}
