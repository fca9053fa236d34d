/**
 * `k8ts bench up`: how long `k8ts up` takes to every node Ready, and what the idle cluster costs —
 * total RSS and CPU over a window, from Linux /proc, of every process in the cluster's state file,
 * their descendants and the pods' processes (anything whose command line names the cluster's
 * nodes/ folder) — over several runs, each in a fresh folder, brought down and purged after.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { runCommand } from '@k8ts/testkit';
import { captureMachine } from './conditions.js';
import { processCpuMs } from './cpu.js';
import { idleStoreMembers, type IdleStoreFigures } from './idle_store_reference.js';
import { processRssBytes } from './pods_agents.js';
import { parseParentPid } from './processes.js';
import { formatNumber, table } from './report.js';
import type { MachineConditions } from './results.js';

const K8TS = resolve(new URL('../../../node_modules/.bin/k8ts', import.meta.url).pathname);

export interface UpBenchOptions {
  readonly runs: number;
  readonly nodes: number;
  readonly idleSeconds: number;
  readonly basePort: number;
  /** After each run, three idle members of etcd 3.4 and of k8ts-store on loopback, for the same window. */
  readonly storeReference: boolean;
}

/**
 * The base port is clear of a cluster of your own on `k8ts up`'s default 32300 and, like it, below
 * Linux's ephemeral range (32768 up): an outgoing connection of a starting part cannot take a port
 * a later part is about to listen on.
 */
export const DEFAULT_UP_OPTIONS: UpBenchOptions = { runs: 3, nodes: 3, idleSeconds: 30, basePort: 31300, storeReference: true };

/** The targets for 3 store members, 2 apiservers, 2 schedulers, 2 controller managers and 3 nodes. */
export const UP_TARGETS = { upSeconds: 10, idleRssMB: 800, idleCpuPercent: 3 };
/**
 * The parts the issue's idle targets name ("3 store, 2 apiservers, 2 schedulers, 2 controller
 * managers, 3 nodes"), with the nodes' pods; the API load balancer and nats-server are reported
 * beside them in the whole cluster's figures.
 */
export const LISTED_PARTS: readonly string[] = ['store', 'apiserver', 'scheduler', 'controller-manager', 'node', 'pods'];
const MB_IN_MIB = 1e6 / 2 ** 20;

export interface PartUsage {
  readonly processes: number;
  readonly rssMiB: number;
  readonly cpuPercent: number;
}

export interface UpRun {
  /** `k8ts up` started → it returned (every node Ready); undefined when it failed. */
  readonly upSeconds?: number;
  readonly idle?: {
    readonly processes: number;
    readonly cpuPercent: number;
    /** Mean of the per-second samples of the total, and the highest. */
    readonly rssMiB: number;
    readonly peakRssMiB: number;
    /**
     * The total's proportional set size at the end of the window: memory shared between the
     * processes (the node binary's pages, mapped by each of them) counted once, split among them.
     */
    readonly pssMiB: number;
    /** By kind of part (store, apiserver, …, node, pods) at the end of the window. */
    readonly byPart: Readonly<Record<string, PartUsage>>;
    /** The LISTED_PARTS only: RSS at the end of the window, CPU over it. */
    readonly listed: { readonly rssMiB: number; readonly cpuPercent: number };
  };
  /** Measured after the cluster was down (options.storeReference); a failure is in `error`. */
  readonly storeReference?: readonly IdleStoreFigures[];
  readonly error?: string;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface UpTargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | 'not measured';
}

export interface UpBenchReport {
  readonly conditions: MachineConditions & { readonly options: UpBenchOptions; readonly nodeNetwork: string; readonly command: string };
  readonly runs: readonly UpRun[];
  readonly upSeconds?: Spread;
  readonly idleRssMiB?: Spread;
  readonly idleCpuPercent?: Spread;
  readonly listedRssMiB?: Spread;
  readonly listedCpuPercent?: Spread;
  readonly targets: readonly UpTargetCheck[];
  readonly problems: readonly string[];
}

interface ProcessEntry {
  readonly parent: number;
  readonly cmdline: string;
}

function processTable(): Map<number, ProcessEntry> {
  const entries = new Map<number, ProcessEntry>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const parent = parseParentPid(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      entries.set(Number(entry), { parent, cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // exited meanwhile
    }
  }
  return entries;
}

/** store-2 → store, node-1 → node: the kind a part's figures are summed under. */
export function partKind(name: string): string {
  return name.replace(/-\d+$/, '');
}

/**
 * The cluster's processes now, each with its kind: the state file's processes and their descendants,
 * and the pods' processes (their command lines name `<dir>/nodes/`) with theirs.
 */
export function clusterProcesses(parts: readonly { name: string; pid: number }[], podsMarker: string, table: ReadonlyMap<number, ProcessEntry>): Map<number, string> {
  const kinds = new Map<number, string>();
  for (const part of parts) if (table.has(part.pid)) kinds.set(part.pid, partKind(part.name));
  for (const [pid, entry] of table) if (!kinds.has(pid) && entry.cmdline.includes(podsMarker)) kinds.set(pid, 'pods');
  // Descendants take their ancestor's kind (parents before children is not guaranteed: repeat until nothing changes).
  for (let changed = true; changed; ) {
    changed = false;
    for (const [pid, entry] of table) {
      const kind = kinds.get(entry.parent);
      if (!kinds.has(pid) && kind !== undefined) {
        kinds.set(pid, kind);
        changed = true;
      }
    }
  }
  return kinds;
}

const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

export function spread(values: readonly number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN };
}

/** Samples the cluster's processes every second for `seconds`: total RSS (mean, peak), CPU over the window, and the split by kind. */
async function measureIdle(dir: string, seconds: number): Promise<NonNullable<UpRun['idle']>> {
  const state = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as { processes: { name: string; pid: number }[] };
  const marker = `${join(dir, 'nodes')}/`;
  const snapshot = (): Map<number, string> => clusterProcesses(state.processes, marker, processTable());
  const start = snapshot();
  const startCpu = new Map([...start.keys()].map((pid) => [pid, processCpuMs(pid) ?? 0]));
  const startMs = performance.now();
  const totals: number[] = [];
  let latest = start;
  for (let second = 0; second < seconds; second++) {
    await new Promise((done) => setTimeout(done, 1_000));
    latest = snapshot();
    totals.push([...latest.keys()].reduce((sum, pid) => sum + (processRssBytes(pid) ?? 0), 0));
  }
  const wallMs = performance.now() - startMs;
  const byPart: Record<string, { processes: number; rssBytes: number; cpuMs: number }> = {};
  for (const [pid, kind] of latest) {
    const part = (byPart[kind] ??= { processes: 0, rssBytes: 0, cpuMs: 0 });
    part.processes++;
    part.rssBytes += processRssBytes(pid) ?? 0;
    // A process started during the window counts all its CPU.
    part.cpuMs += Math.max(0, (processCpuMs(pid) ?? 0) - (startCpu.get(pid) ?? 0));
  }
  const percent = (cpuMs: number): number => Math.round((cpuMs / wallMs) * 1000) / 10;
  const cpuMs = Object.values(byPart).reduce((sum, part) => sum + part.cpuMs, 0);
  const listed = Object.entries(byPart).filter(([kind]) => LISTED_PARTS.includes(kind)).map(([, part]) => part);
  return {
    listed: { rssMiB: mib(listed.reduce((sum, part) => sum + part.rssBytes, 0)), cpuPercent: percent(listed.reduce((sum, part) => sum + part.cpuMs, 0)) },
    processes: latest.size,
    cpuPercent: percent(cpuMs),
    rssMiB: mib(totals.reduce((sum, value) => sum + value, 0) / Math.max(1, totals.length)),
    peakRssMiB: mib(Math.max(0, ...totals)),
    pssMiB: mib([...latest.keys()].reduce((sum, pid) => sum + (processPssBytes(pid) ?? 0), 0)),
    byPart: Object.fromEntries(Object.entries(byPart).map(([kind, part]) => [kind, { processes: part.processes, rssMiB: mib(part.rssBytes), cpuPercent: percent(part.cpuMs) }])),
  };
}

/** Pss from /proc/<pid>/smaps_rollup (Linux 4.14+); undefined once the process is gone. */
function processPssBytes(pid: number): number | undefined {
  try {
    const match = /^Pss:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

async function oneRun(options: UpBenchOptions, run: number, logger: Logger): Promise<UpRun> {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-bench-up-'));
  const k8ts = (args: string[], timeoutMs: number) => runCommand(K8TS, [...args, '--dir', dir], { timeoutMs });
  try {
    logger.info({ run, dir }, 'k8ts up');
    const startMs = performance.now();
    const up = await k8ts(['up', '--nodes', String(options.nodes), '--base-port', String(options.basePort)], 180_000);
    const upSeconds = Math.round(performance.now() - startMs) / 1000;
    if (up.code !== 0) return { error: `k8ts up exited ${up.code}: ${(up.stderr || up.stdout).trim().split('\n').slice(-5).join(' | ')}` };
    logger.info({ run, upSeconds, idleSeconds: options.idleSeconds }, 'up; measuring the idle cluster');
    return { upSeconds, idle: await measureIdle(dir, options.idleSeconds) };
  } finally {
    const down = await k8ts(['down', '--purge'], 60_000);
    if (down.code !== 0) logger.warn({ run, stderr: down.stderr }, 'k8ts down --purge failed');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function storeReference(options: UpBenchOptions, run: number, logger: Logger): Promise<Pick<UpRun, 'storeReference' | 'error'>> {
  const figures: IdleStoreFigures[] = [];
  for (const kind of ['etcd', 'k8ts'] as const) {
    logger.info({ run, kind, idleSeconds: options.idleSeconds }, 'three idle store members on loopback (reference)');
    try {
      figures.push(await idleStoreMembers(kind, options.idleSeconds));
    } catch (error) {
      return { storeReference: figures, error: `${kind} reference: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  return { storeReference: figures };
}

const LISTED = 'store, apiservers, schedulers, controller managers, nodes';

export function upTargets(report: Pick<UpBenchReport, 'upSeconds' | 'listedRssMiB' | 'listedCpuPercent' | 'conditions'>): UpTargetCheck[] {
  const t = UP_TARGETS;
  const shaped = report.conditions.options.nodes === 3;
  const check = (target: string, value: Spread | undefined, limit: number, unit: string): UpTargetCheck => ({
    target,
    measured: value === undefined ? 'no run finished' : `median ${formatNumber(value.median)} ${unit} (worst ${formatNumber(value.max)})`,
    met: value === undefined || !shaped ? 'not measured' : value.median <= limit,
  });
  return [
    check(`k8ts up to 3 Ready nodes ≤ ${t.upSeconds} s`, report.upSeconds, t.upSeconds, 's'),
    check(`idle ${LISTED} ≤ ${t.idleRssMB} MB RSS (${formatNumber(t.idleRssMB * MB_IN_MIB)} MiB)`, report.listedRssMiB, t.idleRssMB * MB_IN_MIB, 'MiB'),
    check(`idle ${LISTED} ≤ ${t.idleCpuPercent}% of a core`, report.listedCpuPercent, t.idleCpuPercent, '%'),
  ];
}

export async function runUpBench(options: UpBenchOptions, logger: Logger): Promise<UpBenchReport> {
  const startedAt = new Date();
  const root = process.getuid?.() === 0;
  const runs: UpRun[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const measured = await oneRun(options, run, logger);
    runs.push(options.storeReference && measured.error === undefined ? { ...measured, ...(await storeReference(options, run, logger)) } : measured);
  }
  const finished = runs.flatMap((run) => (run.upSeconds !== undefined && run.idle !== undefined ? [{ upSeconds: run.upSeconds, idle: run.idle }] : []));
  const summary = {
    conditions: {
      ...captureMachine(startedAt, 'one Node.js process that runs the k8ts command and reads /proc (its own CPU is not counted)'),
      options,
      nodeNetwork: root ? 'node hosts (a network namespace per node, as root)' : 'loopback addresses (not root)',
      command: `k8ts up --nodes ${options.nodes} --base-port ${options.basePort} --dir <fresh folder>`,
    },
    ...optional('upSeconds', spread(finished.map((run) => run.upSeconds))),
    ...optional('idleRssMiB', spread(finished.map((run) => run.idle.rssMiB))),
    ...optional('idleCpuPercent', spread(finished.map((run) => run.idle.cpuPercent))),
    ...optional('listedRssMiB', spread(finished.map((run) => run.idle.listed.rssMiB))),
    ...optional('listedCpuPercent', spread(finished.map((run) => run.idle.listed.cpuPercent))),
  };
  return { ...summary, runs, targets: upTargets(summary), problems: runs.flatMap((run, i) => (run.error === undefined ? [] : [`run ${i + 1}: ${run.error}`])) };
}

function optional<K extends string>(key: K, value: Spread | undefined): Partial<Record<K, Spread>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, Spread>);
}

export function renderUpReport(report: UpBenchReport): string {
  const c = report.conditions;
  const lines = [
    `k8ts bench up: ${c.command}, to every node Ready; then the idle cluster's RSS and CPU over ${c.options.idleSeconds} s (/proc: the state file's processes, their descendants, the pods' processes); ${c.options.runs} run(s)`,
    `nodes:    ${c.options.nodes} process-runtime nodes on ${c.nodeNetwork}`,
    `machine:  ${c.cpuCores} cores (${c.cpuModel}), ${c.memoryGiB} GiB, ${c.platform}, load average ${c.loadAverage1m} at start; node ${c.nodeVersion}`,
    `started:  ${c.startedAt}`,
    '',
    ...table(
      [
        ['run', 'up (s)', 'processes', 'idle RSS (MiB)', 'peak RSS', 'idle PSS', 'idle CPU (% of a core)', 'listed: RSS (MiB)', 'listed: CPU (%)'],
        ...report.runs.map((run, i) =>
          run.idle === undefined || run.upSeconds === undefined
            ? [String(i + 1), 'failed', '-', '-', '-', '-', '-', '-', '-']
            : [
                String(i + 1),
                formatNumber(run.upSeconds),
                String(run.idle.processes),
                formatNumber(run.idle.rssMiB),
                formatNumber(run.idle.peakRssMiB),
                formatNumber(run.idle.pssMiB),
                formatNumber(run.idle.cpuPercent),
                formatNumber(run.idle.listed.rssMiB),
                formatNumber(run.idle.listed.cpuPercent),
              ],
        ),
      ],
      [false, true, true, true, true, true, true, true, true],
    ).map((line) => `  ${line}`),
    `  (idle: every process, over the window; listed: ${LISTED} and pods, as the issue's targets count them, RSS at the window's end)`,
  ];
  const references = report.runs.flatMap((run, i) => (run.storeReference === undefined || run.storeReference.length === 0 ? [] : [{ run: i + 1, figures: run.storeReference }]));
  if (references.length > 0) {
    const cell = (figures: readonly IdleStoreFigures[], kind: string, field: 'cpuPercent' | 'rssMiB'): string => {
      const found = figures.find((figure) => figure.kind === kind);
      return found === undefined ? '-' : formatNumber(found[field]);
    };
    lines.push('', `reference, after each run: three idle store members on loopback, no clients, etcd's default timings (100 ms heartbeats), over ${c.options.idleSeconds} s:`);
    lines.push(
      ...table(
        [
          ['run', 'etcd 3.4 CPU (%)', 'etcd 3.4 RSS (MiB)', 'k8ts-store CPU (%)', 'k8ts-store RSS (MiB)'],
          ...references.map(({ run, figures }) => [String(run), cell(figures, 'etcd', 'cpuPercent'), cell(figures, 'etcd', 'rssMiB'), cell(figures, 'k8ts', 'cpuPercent'), cell(figures, 'k8ts', 'rssMiB')]),
        ],
        [false, true, true, true, true],
      ).map((line) => `  ${line}`),
    );
  }
  const last = [...report.runs].reverse().find((run) => run.idle !== undefined)?.idle;
  if (last !== undefined) {
    lines.push('', 'by part (last run, end of the window):');
    lines.push(
      ...table(
        [['part', 'processes', 'RSS (MiB)', 'CPU (%)'], ...Object.entries(last.byPart).map(([kind, part]) => [kind, String(part.processes), formatNumber(part.rssMiB), formatNumber(part.cpuPercent)])],
        [false, true, true, true],
      ).map((line) => `  ${line}`),
    );
  }
  lines.push('', 'targets:');
  for (const check of report.targets) lines.push(`  ${check.met === true ? 'MET ' : check.met === false ? 'MISS' : '--  '} ${check.target}: ${check.measured}`);
  for (const problem of report.problems) lines.push(`PROBLEM: ${problem}`);
  return lines.join('\n');
}
