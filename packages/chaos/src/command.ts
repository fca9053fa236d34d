import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { LocalTarget } from './local_target.js';
import { buildReport, formatText } from './report.js';
import { renderHtml } from './report_html.js';
import { runChaos } from './run.js';
import { FAULT_KINDS, parseDuration, parseFaultKinds, type FaultKind } from './schedule.js';
import type { ChaosTarget } from './target.js';

interface ChaosOptions {
  target: string;
  dir: string;
  seed: number;
  duration: number;
  faults: FaultKind[];
  recoveryBound: number;
  json: boolean;
  html?: string;
}

const asArgument =
  <T>(parse: (text: string) => T) =>
  (text: string): T => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };

const parseSeed = (text: string): number => {
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error('a seed is an integer in 0..4294967295');
  return seed;
};

function openTarget(options: ChaosOptions): ChaosTarget {
  if (options.target === 'local') return LocalTarget.open(options.dir);
  throw new Error(`--target ${options.target}: not available yet (local is)`);
}

/**
 * `k8ts chaos`: a seeded fault schedule against a running cluster while a workload runs; prints the
 * report (text, or JSON with --json), writes the HTML one, and exits 1 when a check fails.
 */
export function chaosCommand(): Command {
  return new Command('chaos')
    .description('run seeded faults against a running cluster while a workload runs, check that it stays correct and heals, and report recovery times')
    .addOption(new Option('--target <target>', 'the cluster: local (k8ts up in --dir)').choices(['local']).default('local'))
    .addOption(new Option('--dir <dir>', "the local cluster's folder").default('.k8ts').env('K8TS_HOME'))
    .addOption(new Option('--seed <n>', 'replays the same fault schedule').argParser(asArgument(parseSeed)).default(Date.now() % 100_000, 'a new one, printed'))
    .addOption(new Option('--duration <d>', 'how long faults are scheduled for (60s, 2m)').argParser(asArgument(parseDuration)).default(60_000, '60s'))
    .addOption(new Option('--faults <list>', `fault kinds, comma-separated: ${FAULT_KINDS.join(', ')}`).argParser(asArgument(parseFaultKinds)).default([...FAULT_KINDS], 'all'))
    .addOption(new Option('--recovery-bound <d>', 'the Deployment must be back to its ready replicas this soon after the last heal').argParser(asArgument(parseDuration)).default(60_000, '60s'))
    .option('--json', 'print the report as JSON', false)
    .option('--html <file>', 'where to write the HTML report (default DIR/chaos/report-seed<S>.html)')
    .action(async (options: ChaosOptions) => {
      const target = openTarget(options);
      const abort = new AbortController();
      const onSignal = (): void => {
        console.error('chaos: stopping: healing the fault in place, then checking');
        abort.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const run = await runChaos({ target, seed: options.seed, durationMs: options.duration, kinds: options.faults, recoveryBoundMs: options.recoveryBound, log: (line) => console.error(line), signal: abort.signal });
        const report = buildReport(run);
        const html = resolve(options.html ?? join(options.dir, 'chaos', `report-seed${options.seed}.html`));
        mkdirSync(dirname(html), { recursive: true });
        writeFileSync(html, renderHtml(run, report));
        console.log(options.json ? JSON.stringify({ ...report, html }, null, 2) : `${formatText(report)}\nHTML report: ${html}`);
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        target.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
