import type { WatchEventType } from '@k8ts/client';
import { AnomalyLog, type AnomalyReport } from './results.js';
import { parseCpuMillis, parseMemoryBytes, parseQuantity } from './scheduler_quantity.js';
import type { BenchNode, BenchPod, CoreEvent, PlacementRule } from './scheduler_workloads.js';
import { ROLE_LABEL } from './scheduler_workloads.js';
import { percentile, summarizeLatencies, type LatencySummary } from './stats.js';

/**
 * What the scheduler did, as the pods' watch shows it, and whether the result is sound: every
 * figure here is computed from timestamps and objects handed in, so tests give fixed ones.
 */

export interface FirstBinding {
  readonly node: string;
  readonly version: string;
}

interface PodRecord {
  uid: string;
  measured: boolean;
  node?: string;
  /** When this bench first saw the pod with a node (ms, the ledger's clock), and the object's resourceVersion then. */
  boundAtMs?: number;
  boundVersion?: string;
  deleted: boolean;
}

/**
 * Follows the run's pods (a list, then its watch) and records when each measured pod is first
 * seen bound. Anomalies: a pod whose node changes or is taken away (bound twice), a pod bound to
 * a node that does not exist, a measured pod deleted.
 */
export class BindLedger {
  private readonly pods = new Map<string, PodRecord>();
  private readonly anomalies = new AnomalyLog();
  private readonly bindTimes: number[] = [];
  private measuredBoundCount = 0;
  private fillDeletedCount = 0;
  private measuredDeletedCount = 0;
  private waiter: (() => void) | undefined;

  constructor(
    readonly measuredPods: number,
    private readonly knownNodes: ReadonlySet<string>,
  ) {}

  /** A pod as a list or watch event shows it at `atMs`. */
  observe(type: WatchEventType, pod: BenchPod, atMs: number): void {
    if (type === 'BOOKMARK') return;
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    let record = this.pods.get(name);
    if (record !== undefined && record.uid !== uid) record = undefined; // a new object under an old name
    if (record === undefined) {
      record = { uid, measured: pod.metadata?.labels?.[ROLE_LABEL] === 'measured', deleted: false };
      this.pods.set(name, record);
    }
    if (type === 'DELETED') {
      if (!record.deleted) {
        record.deleted = true;
        if (record.measured) {
          this.measuredDeletedCount += 1;
          this.anomalies.add(`measured pod ${name} was deleted${record.node === undefined ? '' : ` (it was on ${record.node})`}`);
        } else {
          this.fillDeletedCount += 1;
        }
      }
      return;
    }
    const node = pod.spec?.nodeName ?? '';
    if (record.node === undefined) {
      if (node === '') return;
      record.node = node;
      record.boundAtMs = atMs;
      record.boundVersion = pod.metadata?.resourceVersion ?? '';
      if (!this.knownNodes.has(node)) this.anomalies.add(`pod ${name} was bound to ${node}, which is not one of the run's nodes`);
      if (record.measured) {
        this.measuredBoundCount += 1;
        this.bindTimes.push(atMs);
        if (this.measuredBoundCount >= this.measuredPods) this.waiter?.();
      }
    } else if (node !== record.node) {
      this.anomalies.add(node === '' ? `pod ${name} lost its node ${record.node}` : `pod ${name} was bound twice: to ${record.node}, then to ${node}`);
      if (node !== '') record.node = node;
    }
  }

  /** Resolves once every measured pod has been seen bound. */
  allBound(): Promise<void> {
    if (this.measuredBoundCount >= this.measuredPods) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.waiter;
      this.waiter = () => {
        previous?.();
        resolve();
      };
    });
  }

  get measuredBound(): number {
    return this.measuredBoundCount;
  }

  get measuredDeleted(): number {
    return this.measuredDeletedCount;
  }

  /** Fill pods deleted: Preemption's victims. */
  get fillDeleted(): number {
    return this.fillDeletedCount;
  }

  /** When each measured pod was first seen bound, in observation order. */
  measuredBindTimes(): readonly number[] {
    return this.bindTimes;
  }

  /** Measured pods bound at or before `atMs` (for "bound before the scheduler started"). */
  measuredBoundBy(atMs: number): number {
    return this.bindTimes.filter((time) => time <= atMs).length;
  }

  /** The node each pod was first seen on, with the pod's resourceVersion then (only pods seen bound). */
  firstNodes(): ReadonlyMap<string, FirstBinding> {
    const nodes = new Map<string, FirstBinding>();
    for (const [name, record] of this.pods) if (record.node !== undefined) nodes.set(name, { node: record.node, version: record.boundVersion ?? '' });
    return nodes;
  }

  report(): AnomalyReport {
    return this.anomalies.report();
  }
}

/** scheduler_perf's SchedulingThroughput and the run's overall rate. Rates are pods/s; times ms from the start. */
export interface ThroughputFigures {
  readonly bound: number;
  /** The first and last bind seen, after the start (binds seen before it count at 0). */
  readonly firstBindMs: number;
  readonly lastBindMs: number;
  /** bound ÷ (last bind − start): the whole measurement, the scheduler's start-up included. */
  readonly overallPerSecond: number;
  /** (bound − 1) ÷ (last bind − first bind): the stretch where pods were being bound. */
  readonly firstToLastPerSecond: number;
  readonly intervalMs: number;
  /** Each sampling interval's rate, in time order, as scheduler_perf's throughputCollector records them. */
  readonly samples: readonly number[];
  /** Of the samples (NaN without any): scheduler_perf's threshold is checked on the average. */
  readonly average: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/**
 * scheduler_perf's throughputCollector (test/integration/scheduler_perf/util.go) replayed on bind
 * times: a sample every `intervalMs` from the start while a tick falls at or before the last bind;
 * ticks before the first bound pod are ignored and the first tick with one only sets the
 * baseline (its interval mixes start-up with work); a tick with nothing new is folded into the
 * next one, whose rate is then recorded once per interval it covers.
 */
export function throughputSamples(bindTimesMs: readonly number[], startMs: number, intervalMs = 1000): number[] {
  const times = Float64Array.from(bindTimesMs, (time) => Math.max(0, time - startMs)).sort();
  const end = times.length > 0 ? (times[times.length - 1] ?? 0) : 0;
  const samples: number[] = [];
  let seen = 0;
  let started = false;
  let lastCount = 0;
  let lastTick = 0;
  let skipped = 0;
  for (let tick = intervalMs; tick <= end; tick += intervalMs) {
    while (seen < times.length && (times[seen] ?? Infinity) <= tick) seen += 1;
    if (seen === 0) continue;
    if (!started) {
      started = true;
      lastCount = seen;
      lastTick = tick;
      continue;
    }
    const added = seen - lastCount;
    if (added === 0) {
      skipped += 1;
      continue;
    }
    const rate = (added * 1000) / (tick - lastTick);
    for (let i = 0; i <= skipped; i++) samples.push(rate);
    lastCount = seen;
    lastTick = tick;
    skipped = 0;
  }
  return samples;
}

export function computeThroughput(bindTimesMs: readonly number[], startMs: number, intervalMs = 1000): ThroughputFigures {
  const relative = bindTimesMs.map((time) => Math.max(0, time - startMs));
  const bound = relative.length;
  const firstBindMs = bound > 0 ? relative.reduce((least, time) => Math.min(least, time), Infinity) : Number.NaN;
  const lastBindMs = bound > 0 ? relative.reduce((most, time) => Math.max(most, time), 0) : Number.NaN;
  const samples = throughputSamples(bindTimesMs, startMs, intervalMs);
  const sorted = Float64Array.from(samples).sort();
  const rate = (count: number, ms: number): number => (ms > 0 ? (count * 1000) / ms : Number.NaN);
  return {
    bound,
    firstBindMs,
    lastBindMs,
    overallPerSecond: bound > 0 ? rate(bound, lastBindMs) : 0,
    firstToLastPerSecond: bound > 1 ? rate(bound - 1, lastBindMs - firstBindMs) : Number.NaN,
    intervalMs,
    samples,
    average: samples.length > 0 ? samples.reduce((sum, sample) => sum + sample, 0) / samples.length : Number.NaN,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
  };
}

/** Each measured pod's start → bind seen (binds seen before the start count as 0). */
export function schedulingLatency(bindTimesMs: readonly number[], startMs: number): LatencySummary {
  return summarizeLatencies(bindTimesMs.map((time) => Math.max(0, time - startMs)));
}

/** What a pod asks of its node: containers' requests summed, or its largest init container's if more, plus overhead. */
export function podRequests(pod: BenchPod): { cpuMillis: number; memoryBytes: number } {
  const spec = pod.spec;
  const of = (resources: Record<string, string> | undefined, name: string, parse: (text: string) => number): number =>
    resources?.[name] === undefined ? 0 : parse(resources[name]);
  const sum = (name: string, parse: (text: string) => number): number => {
    // Requests default to limits when only limits are given (core/v1 defaulting).
    const containers = (spec?.containers ?? []).reduce((total, c) => total + of(c.resources?.requests ?? c.resources?.limits, name, parse), 0);
    const init = (spec?.initContainers ?? []).reduce((most, c) => Math.max(most, of(c.resources?.requests ?? c.resources?.limits, name, parse)), 0);
    return Math.max(containers, init) + of(spec?.overhead, name, parse);
  };
  return { cpuMillis: sum('cpu', parseCpuMillis), memoryBytes: sum('memory', parseMemoryBytes) };
}

/** Pods that hold a node's resources: bound and not finished (terminating ones still hold them). */
function holdsNode(pod: BenchPod): boolean {
  const phase = pod.status?.phase;
  return (pod.spec?.nodeName ?? '') !== '' && phase !== 'Succeeded' && phase !== 'Failed';
}

/** Nodes whose pods request more cpu, memory or pod slots than the node allocates; pods on nodes that do not exist. */
export function checkNodeCapacity(nodes: readonly BenchNode[], pods: readonly BenchPod[]): AnomalyReport {
  const log = new AnomalyLog();
  const used = new Map<string, { cpuMillis: number; memoryBytes: number; pods: number }>();
  for (const pod of pods) {
    if (!holdsNode(pod)) continue;
    const node = pod.spec?.nodeName ?? '';
    const requests = podRequests(pod);
    const total = used.get(node) ?? { cpuMillis: 0, memoryBytes: 0, pods: 0 };
    used.set(node, { cpuMillis: total.cpuMillis + requests.cpuMillis, memoryBytes: total.memoryBytes + requests.memoryBytes, pods: total.pods + 1 });
  }
  const byName = new Map(nodes.map((node) => [node.metadata?.name ?? '', node]));
  for (const [name, total] of used) {
    const node = byName.get(name);
    if (node === undefined) {
      log.add(`${total.pods} pods are bound to node ${name}, which does not exist`);
      continue;
    }
    const allocatable = node.status?.allocatable ?? node.status?.capacity ?? {};
    const over: string[] = [];
    const cpu = allocatable['cpu'] === undefined ? 0 : parseCpuMillis(allocatable['cpu']);
    const memory = allocatable['memory'] === undefined ? 0 : parseMemoryBytes(allocatable['memory']);
    const slots = allocatable['pods'] === undefined ? 0 : parseQuantity(allocatable['pods']);
    if (total.cpuMillis > cpu) over.push(`cpu ${total.cpuMillis}m requested of ${cpu}m`);
    if (total.memoryBytes > memory) over.push(`memory ${total.memoryBytes} bytes requested of ${memory}`);
    if (total.pods > slots) over.push(`${total.pods} pods of ${slots}`);
    if (over.length > 0) log.add(`node ${name} is over its allocatable: ${over.join(', ')}`);
  }
  return log.report();
}

/**
 * Measured pods that end on another node than the watch first saw them on, or on none (a move the
 * watch may have missed). A listed pod older than the watch event that showed its bind (the
 * scheduler still binding while the list was read) is not compared.
 */
export function checkFinalBindings(firstNodes: ReadonlyMap<string, FirstBinding>, finalPods: readonly BenchPod[]): AnomalyReport {
  const log = new AnomalyLog();
  for (const pod of finalPods) {
    if (pod.metadata?.labels?.[ROLE_LABEL] !== 'measured') continue;
    const name = pod.metadata.name ?? '';
    const node = pod.spec?.nodeName ?? '';
    const first = firstNodes.get(name);
    if (first === undefined || node === first.node || isOlder(pod.metadata.resourceVersion ?? '', first.version)) continue;
    log.add(`pod ${name} was seen on ${first.node} and ends on ${node || 'no node'}`);
  }
  return log.report();
}

/** Whether resourceVersion `a` is older than `b`; false unless both are integers (etcd revisions). */
function isOlder(a: string, b: string): boolean {
  return /^\d+$/.test(a) && /^\d+$/.test(b) && BigInt(a) < BigInt(b);
}

const MAX_DOMAINS_LISTED = 20;

function matches(pod: BenchPod, labels: Readonly<Record<string, string>>): boolean {
  const own = pod.metadata?.labels ?? {};
  return Object.entries(labels).every(([key, value]) => own[key] === value);
}

/** The workload's own rule on where its pods may go: anti-affinity (≤ 1 per domain) or spread (skew ≤ maxSkew). */
export function checkPlacement(rule: PlacementRule, nodes: readonly BenchNode[], pods: readonly BenchPod[]): { anomalies: AnomalyReport; summary?: string } {
  const log = new AnomalyLog();
  if (rule.kind === 'none') return { anomalies: log.report() };
  const domainOf = new Map(nodes.map((node) => [node.metadata?.name ?? '', node.metadata?.labels?.[rule.topologyKey]]));
  const counts = new Map<string, number>();
  for (const node of nodes) {
    const domain = node.metadata?.labels?.[rule.topologyKey];
    if (domain !== undefined) counts.set(domain, 0);
  }
  for (const pod of pods) {
    if (!holdsNode(pod) || !matches(pod, rule.labels)) continue;
    const domain = domainOf.get(pod.spec?.nodeName ?? '');
    if (domain === undefined) continue; // on a node without the key: the capacity check names unknown nodes
    counts.set(domain, (counts.get(domain) ?? 0) + 1);
  }
  const selector = Object.entries(rule.labels).map(([key, value]) => `${key}=${value}`).join(',');
  if (rule.kind === 'anti-affinity') {
    for (const [domain, count] of counts) {
      if (count > 1) log.add(`${count} pods with ${selector} share ${rule.topologyKey}=${domain} despite their required anti-affinity`);
    }
    let used = 0;
    let most = 0;
    for (const count of counts.values()) {
      if (count > 0) used += 1;
      most = Math.max(most, count);
    }
    return { anomalies: log.report(), summary: `pods with ${selector} on ${used} distinct ${rule.topologyKey} values, at most ${most} on one` };
  }
  const entries = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  const values = entries.map(([, count]) => count);
  const skew = values.length > 0 ? values.reduce((most, v) => Math.max(most, v), 0) - values.reduce((least, v) => Math.min(least, v), Infinity) : 0;
  const spread =
    entries.length <= MAX_DOMAINS_LISTED
      ? entries.map(([domain, count]) => `${domain} ${count}`).join(', ')
      : `${entries.length} values, from ${values.reduce((least, v) => Math.min(least, v), Infinity)} to ${values.reduce((most, v) => Math.max(most, v), 0)}`;
  if (skew > rule.maxSkew) log.add(`pods with ${selector} are skewed by ${skew} over ${rule.topologyKey} (maxSkew ${rule.maxSkew}, DoNotSchedule): ${spread}`);
  return { anomalies: log.report(), summary: `pods with ${selector} per ${rule.topologyKey}: ${spread} (skew ${skew}, maxSkew ${rule.maxSkew})` };
}

const MAX_EVENT_MESSAGES = 3;

/** FailedScheduling Events: objects, occurrences (count, or series.count), and a few distinct messages. */
export function summarizeFailedScheduling(events: readonly CoreEvent[]): { events: number; occurrences: number; messages: string[] } {
  const failed = events.filter((event) => event.reason === 'FailedScheduling');
  const messages = new Set<string>();
  let occurrences = 0;
  for (const event of failed) {
    occurrences += Math.max(1, event.series?.count ?? event.count ?? 1);
    if (messages.size < MAX_EVENT_MESSAGES && event.message !== undefined) messages.add(event.message);
  }
  return { events: failed.length, occurrences, messages: [...messages] };
}
