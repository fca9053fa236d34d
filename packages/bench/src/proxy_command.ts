import { Command, Option } from 'commander';
import { pino } from 'pino';
import { checkProxyOptions, runProxyBench } from './proxy_bench.js';
import { DEFAULT_PROXY_OPTIONS, renderProxyReport, type ProxyBenchOptions } from './proxy_report.js';
import { positiveInteger } from './flag_parsers.js';

/**
 * `k8ts bench proxy`: connections/s, added request latency (p50/p99) and throughput of the L4 proxy
 * (@k8ts/l4proxy) against a direct connection, over several runs with their spread. Exit status 1
 * when connections failed during the run; 2 on bad flags or a run that could not start.
 */
export function proxyBenchCommand(): Command {
  const d = DEFAULT_PROXY_OPTIONS;
  const numeric = (flags: string, description: string, fallback: number): Option =>
    new Option(flags, description).argParser(positiveInteger(flags.split(' ')[0] ?? flags)).default(fallback);
  return new Command('proxy')
    .description(
      'the L4 proxy (@k8ts/l4proxy TcpProxy, as kube-proxy and the API load balancer use it) against a direct connection: ' +
        'connections/s (connect, one small request/response, close), request/response latency p50/p99 on a kept connection, and ' +
        'one-way throughput, each over --runs runs with their spread. Starts a backend and a proxy process of its own on 127.0.0.1.',
    )
    .addOption(numeric('--runs <n>', 'runs of every measurement, direct and through the proxy', d.runs))
    .addOption(numeric('--duration <seconds>', 'length of each connections/s measurement', d.durationSeconds))
    .addOption(numeric('--concurrency <n>', 'connections in flight during the connections/s measurement', d.concurrency))
    .addOption(numeric('--requests <n>', 'request/response round trips timed per run for the latency figures', d.requests))
    .addOption(numeric('--request-bytes <n>', 'size of each request (and response)', d.requestBytes))
    .addOption(numeric('--megabytes <n>', 'MiB sent through one connection for the throughput figure', d.megabytes))
    .option('--json', 'print the report as one JSON object (logs go to stderr either way)', false)
    .addOption(new Option('--log-level <level>', 'progress log level (stderr)').choices(['debug', 'info', 'warn', 'error', 'silent']).default('info'))
    .action(async (flags: Record<string, unknown>) => {
      const logger = pino({ level: String(flags['logLevel']), base: { component: 'bench' } }, pino.destination(2));
      const options = proxyOptionsFrom(flags);
      checkProxyOptions(options);
      const report = await runProxyBench(options, logger);
      process.stdout.write(flags['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : `${renderProxyReport(report)}\n`);
      process.exitCode = report.problems.length > 0 ? 1 : 0;
    });
}

export function proxyOptionsFrom(flags: Record<string, unknown>): ProxyBenchOptions {
  const count = (name: string): number => Number(flags[name]);
  return {
    runs: count('runs'),
    durationSeconds: count('duration'),
    concurrency: count('concurrency'),
    requests: count('requests'),
    requestBytes: count('requestBytes'),
    megabytes: count('megabytes'),
  };
}
