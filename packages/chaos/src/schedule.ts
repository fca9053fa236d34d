import { invariant, seededRandom } from '@k8ts/base';

/**
 * A chaos run's fault schedule, pure: the same seed, duration, kinds and parts give the same list,
 * so `--seed` replays a run's faults (not its timing inside the cluster).
 *
 * Faults come one at a time: each is healed before the next starts, with room in between for the
 * cluster to recover, so every symptom and every recovery belongs to one fault.
 */

export const FAULT_KINDS = [
  'kill-store',
  'kill-store-leader',
  'kill-apiserver',
  'kill-scheduler-leader',
  'kill-controller-manager-leader',
  'kill-node',
  'pause',
  'cut-node',
  'lose-node',
  'isolate-store-leader',
  'partition-store',
  'link-loss',
  'link-slow',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a run draws from unless told (`--faults`): `lose-node` is asked for by name, since it needs a run that long. */
export const DEFAULT_FAULT_KINDS: readonly FaultKind[] = FAULT_KINDS.filter((kind) => kind !== 'lose-node');

/** A `lose-node` fault's length unless a run says otherwise (ScheduleOptions.nodeLossMs). */
export const NODE_LOSS_MS = 75_000;

/** Targets of the leader kinds: resolved to a part when the fault starts (leaders move). */
export const LEADER_ROLES = {
  'kill-store-leader': 'store-leader',
  'kill-scheduler-leader': 'scheduler-leader',
  'kill-controller-manager-leader': 'controller-manager-leader',
} as const;

export interface ScheduledFault {
  /** Milliseconds after the run's start. */
  readonly atMs: number;
  readonly kind: FaultKind;
  /** A part's name (`store-2`, `node-1`), or a leader role (`store-leader`) resolved at `atMs`. */
  readonly target: string;
  /** How long the fault lasts: then the part is restarted, resumed or put back on the network. */
  readonly healAfterMs: number;
  /** link-loss: the share of packets dropped each way, in percent (LOSS_PERCENT's range). */
  readonly lossPercent?: number;
  /** link-slow: the rate the part may send at, kbit/s (SLOW_RATE_KBIT's range). */
  readonly rateKbit?: number;
}

/** link-loss drops this share of packets each way, drawn per fault (percent). */
export const LOSS_PERCENT = [20, 50] as const;
/** link-slow's rate, drawn per fault (kbit/s): slow enough that the queue fills under the cluster's traffic. */
export const SLOW_RATE_KBIT = [128, 1024] as const;

/** The parts a schedule may pick targets among, by name. */
export interface ScheduleParts {
  readonly stores: readonly string[];
  readonly apiservers: readonly string[];
  readonly schedulers: readonly string[];
  readonly controllerManagers: readonly string[];
  /** Node agents' part names. */
  readonly nodes: readonly string[];
  /** Node hosts that can be cut off (empty without network namespaces). */
  readonly nodeHosts: readonly string[];
  /**
   * The parts with a network namespace and an address of their own (the target's `networkNamespace`
   * and `address` answer for them): link faults go only there. Absent: none.
   */
  readonly linkParts?: readonly string[];
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly kinds: readonly FaultKind[];
  readonly parts: ScheduleParts;
  /** Before the first fault: the workload settles. Default 5 s. */
  readonly warmupMs?: number;
  /** Each fault lasts between these. Default 2..6 s. */
  readonly healAfterMsMin?: number;
  readonly healAfterMsMax?: number;
  /**
   * How long a `lose-node` cut lasts: past the node monitor's grace period and the pods'
   * NoExecute toleration, so that the node's pods are evicted and replaced elsewhere. Default 75 s
   * (upstream's 50 s grace, then the compose cluster's 15 s default toleration, with room to act).
   */
  readonly nodeLossMs?: number;
  /** Between a heal and the next fault. Default 6..10 s. */
  readonly gapMsMin?: number;
  readonly gapMsMax?: number;
}

export function parseFaultKinds(list: string): FaultKind[] {
  const kinds = list.split(',').map((kind) => kind.trim()).filter((kind) => kind !== '');
  for (const kind of kinds) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown fault kind ${JSON.stringify(kind)} (known: ${FAULT_KINDS.join(', ')})`);
  }
  if (kinds.length === 0) throw new Error('no fault kinds given');
  return kinds as FaultKind[];
}

/** The kinds that have a target among `parts` (no cut-node without node hosts, …). */
export function applicableKinds(kinds: readonly FaultKind[], parts: ScheduleParts): FaultKind[] {
  return kinds.filter((kind) => candidates(kind, parts).length > 0);
}

function candidates(kind: FaultKind, parts: ScheduleParts): readonly string[] {
  switch (kind) {
    case 'kill-store':
      return parts.stores;
    case 'kill-store-leader':
      return parts.stores.length > 0 ? [LEADER_ROLES[kind]] : [];
    case 'kill-apiserver':
      return parts.apiservers;
    case 'kill-scheduler-leader':
      return parts.schedulers.length > 0 ? [LEADER_ROLES[kind]] : [];
    case 'kill-controller-manager-leader':
      return parts.controllerManagers.length > 0 ? [LEADER_ROLES[kind]] : [];
    case 'kill-node':
      return parts.nodes;
    case 'pause':
      return [...parts.stores, ...parts.apiservers, ...parts.schedulers, ...parts.controllerManagers, ...parts.nodes];
    case 'cut-node':
    case 'lose-node':
      return parts.nodeHosts;
    // The store's own links: every member needs a namespace (the faulted one for the rules, its peers for their addresses).
    case 'isolate-store-leader':
      return parts.stores.length >= 2 && parts.stores.every(linked(parts)) ? ['store-leader'] : [];
    case 'partition-store':
      // The member drawn is the minority side: cut off from the other two, both ways.
      return parts.stores.length >= 3 && parts.stores.every(linked(parts)) ? parts.stores : [];
    case 'link-loss':
    case 'link-slow':
      return [...parts.stores, ...parts.apiservers, ...parts.schedulers, ...parts.controllerManagers, ...parts.nodes].filter(linked(parts));
  }
}

const linked = (parts: ScheduleParts) => (name: string): boolean => parts.linkParts?.includes(name) ?? false;

/**
 * The faults of one run. Kinds are taken in a seeded shuffled order, cycling, so a short run still
 * covers different kinds; each target is drawn among that kind's candidates. No fault is scheduled
 * that would not be healed before `durationMs`.
 */
export function faultSchedule(options: ScheduleOptions): ScheduledFault[] {
  const warmupMs = options.warmupMs ?? 5_000;
  const heal = [options.healAfterMsMin ?? 2_000, options.healAfterMsMax ?? 6_000] as const;
  const gap = [options.gapMsMin ?? 6_000, options.gapMsMax ?? 10_000] as const;
  invariant(Number.isFinite(options.durationMs) && options.durationMs > 0, `durationMs ${options.durationMs}: must be positive`);
  invariant(heal[0] > 0 && heal[0] <= heal[1] && gap[0] >= 0 && gap[0] <= gap[1], 'fault and gap ranges must be ordered and positive');
  const kinds = applicableKinds(options.kinds, options.parts);
  if (kinds.length === 0) return [];
  const random = seededRandom(options.seed);
  const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const order = shuffled(kinds, random);
  const faults: ScheduledFault[] = [];
  let atMs = warmupMs;
  for (let index = 0; ; index++) {
    const kind = order[index % order.length] as FaultKind;
    const healAfterMs = kind === 'lose-node' ? (options.nodeLossMs ?? NODE_LOSS_MS) : between(heal[0], heal[1]);
    if (atMs + healAfterMs > options.durationMs) break;
    const target = pick(candidates(kind, options.parts));
    // Drawn only for their kinds, so that schedules of the other kinds stay as they were.
    if (kind === 'link-loss') faults.push({ atMs, kind, target, healAfterMs, lossPercent: between(...LOSS_PERCENT) });
    else if (kind === 'link-slow') faults.push({ atMs, kind, target, healAfterMs, rateKbit: between(...SLOW_RATE_KBIT) });
    else faults.push({ atMs, kind, target, healAfterMs });
    atMs += healAfterMs + between(gap[0], gap[1]);
  }
  return faults;
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** `60s`, `2m`, `1500ms`, `90` (seconds) → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (match === null) throw new Error(`duration ${JSON.stringify(text)}: expected e.g. 60s, 2m or 1500ms`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const ms = unit === 'ms' ? value : unit === 's' ? value * 1000 : value * 60_000;
  if (!(ms > 0)) throw new Error(`duration ${JSON.stringify(text)}: must be positive`);
  return Math.round(ms);
}
