import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ComposeTarget, composeProjectName } from './compose_target.js';
import { LocalTarget } from './local_target.js';
import { buildReport, formatText } from './report.js';
import { renderHtml } from './report_html.js';
import { runChaos, type ChaosRunOptions } from './run.js';
import { DEFAULT_FAULT_KINDS, FAULT_KINDS, NODE_LOSS_MS, parseDuration, parseFaultKinds, type FaultKind } from './schedule.js';
import type { ChaosTarget } from './target.js';

interface ChaosOptions {
  target: 'local' | 'compose';
  dir: string;
  project?: string;
  seed: number;
  duration: number;
  faults: FaultKind[];
  recoveryBound: number;
  nodeLoss?: number;
  gap?: number;
  podTolerationSeconds?: number;
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

/** The compose cluster `pnpm compose:up` starts is the project `k8ts` (deploy/compose.sh's default). */
const COMPOSE_SH_PROJECT = 'k8ts';

const parseToleration = (text: string): number => {
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error('a toleration is a whole number of seconds, 0 or more');
  return seconds;
};

function runTimings(options: ChaosOptions): NonNullable<ChaosRunOptions['timings']> {
  return {
    ...(options.nodeLoss === undefined ? {} : { nodeLossMs: options.nodeLoss }),
    ...(options.gap === undefined ? {} : { gapMsMin: options.gap, gapMsMax: options.gap }),
  };
}

async function openTarget(options: ChaosOptions): Promise<ChaosTarget> {
  if (options.target === 'local') return LocalTarget.open(options.dir);
  return ComposeTarget.open(await composeProject(options.project));
}

/**
 * --project (or COMPOSE_PROJECT_NAME); else, as compose names it, this folder's name, or when no
 * containers carry that name, the project `pnpm compose:up` starts.
 */
async function composeProject(given: string | undefined): Promise<string> {
  if (given !== undefined && given !== '') return given;
  const folder = composeProjectName(process.cwd());
  return (await ComposeTarget.firstProjectWithContainers([folder, COMPOSE_SH_PROJECT]).catch(() => undefined)) ?? folder;
}

/** Where the HTML report goes unless --html says: the local cluster's folder, or for compose DIR/compose/chaos. */
function defaultHtml(options: ChaosOptions, target: ChaosTarget): string {
  if (target instanceof ComposeTarget) return join(options.dir, 'compose', 'chaos', `report-${target.project}-seed${options.seed}.html`);
  return join(options.dir, 'chaos', `report-seed${options.seed}.html`);
}

/**
 * `k8ts chaos`: a seeded fault schedule against a running cluster while a workload runs; prints the
 * report (text, or JSON with --json), writes the HTML one, and exits 1 when a check fails.
 */
export function chaosCommand(): Command {
  return new Command('chaos')
    .description('run seeded faults against a running cluster while a workload runs, check that it stays correct and heals, and report recovery times')
    .addOption(new Option('--target <target>', 'the cluster: local (k8ts up in --dir) or compose (docker-compose.yml\'s containers)').choices(['local', 'compose']).default('local'))
    .addOption(new Option('--dir <dir>', "the local cluster's folder (compose: its reports go in DIR/compose/chaos)").default('.k8ts').env('K8TS_HOME'))
    .addOption(new Option('--project <name>', "--target compose: the compose project (default: this folder's name as compose gives it, else k8ts, pnpm compose:up's)").env('COMPOSE_PROJECT_NAME'))
    .addOption(new Option('--seed <n>', 'replays the same fault schedule').argParser(asArgument(parseSeed)).default(Date.now() % 100_000, 'a new one, printed'))
    .addOption(new Option('--duration <d>', 'how long faults are scheduled for (60s, 2m)').argParser(asArgument(parseDuration)).default(60_000, '60s'))
    .addOption(new Option('--faults <list>', `fault kinds, comma-separated: ${FAULT_KINDS.join(', ')}`).argParser(asArgument(parseFaultKinds)).default([...DEFAULT_FAULT_KINDS], 'all but lose-node'))
    .addOption(new Option('--node-loss <d>', `how long a lose-node fault cuts its node off (past the node monitor's grace period and the pods' toleration; default ${NODE_LOSS_MS / 1000}s)`).argParser(asArgument(parseDuration)))
    .addOption(new Option('--gap <d>', 'the pause between a heal and the next fault (default 6-10 s, drawn): longer shows recoveries slower than that, such as a leader Lease running out').argParser(asArgument(parseDuration)))
    .addOption(new Option('--pod-toleration-seconds <n>', "the workload's pods tolerate a not-ready or unreachable node this long (default: the cluster's, 300 s upstream)").argParser(asArgument(parseToleration)))
    .addOption(new Option('--recovery-bound <d>', 'the Deployment must be back to its ready replicas this soon after the last heal').argParser(asArgument(parseDuration)).default(60_000, '60s'))
    .option('--json', 'print the report as JSON', false)
    .option('--html <file>', 'where to write the HTML report (default DIR/chaos/report-seed<S>.html; compose: DIR/compose/chaos/report-<project>-seed<S>.html)')
    .action(async (options: ChaosOptions) => {
      const target = await openTarget(options);
      const abort = new AbortController();
      const onSignal = (): void => {
        console.error('chaos: stopping: healing the fault in place, then checking');
        abort.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const run = await runChaos({ target, seed: options.seed, durationMs: options.duration, kinds: options.faults, recoveryBoundMs: options.recoveryBound, timings: runTimings(options), ...(options.podTolerationSeconds === undefined ? {} : { podTolerationSeconds: options.podTolerationSeconds }), log: (line) => console.error(line), signal: abort.signal });
        const report = buildReport(run);
        const html = resolve(options.html ?? defaultHtml(options, target));
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
