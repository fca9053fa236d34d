/**
 * A node's capacity and allocatable, as the kubelet computes them (upstream's container manager):
 * capacity is what the machine has (or what flags say it has), allocatable is capacity minus
 * --kube-reserved, --system-reserved and the hard eviction thresholds, never below zero.
 * Pure: the host's facts come in as numbers (see host.ts).
 */
import { integerValue, milliValue, tryParseQuantity } from '@k8ts/apimachinery';

/** Node.status.capacity / allocatable: resource name → quantity text. */
export type ResourceList = Record<string, string>;

/** The amounts the kubelet counts: cpu in millicores, memory and storage in bytes, pids and pods as counts. */
export interface ResourceAmounts {
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly ephemeralStorageBytes: number;
  readonly pods: number;
}

/** A reservation (--kube-reserved / --system-reserved): absent resources reserve nothing. */
export interface Reservation {
  readonly cpuMillis?: number;
  readonly memoryBytes?: number;
  readonly ephemeralStorageBytes?: number;
  readonly pid?: number;
}

/** --eviction-hard thresholds that reduce allocatable (memory.available, nodefs.available). */
export interface EvictionHard {
  readonly memoryAvailableBytes?: number;
  /** memory.available as a share of the node's memory (0.05 for "5%"). */
  readonly memoryAvailableShare?: number;
  /** nodefs.available as a share of the node's filesystem (0.1 for "10%"). */
  readonly nodefsAvailableShare?: number;
  readonly nodefsAvailableBytes?: number;
}

/** Upstream's Linux default: memory.available<100Mi,nodefs.available<10% (imagefs and inodes do not touch allocatable). */
export const DEFAULT_EVICTION_HARD: EvictionHard = { memoryAvailableBytes: 100 * 1024 * 1024, nodefsAvailableShare: 0.1 };

export const DEFAULT_MAX_PODS = 110;

/** Capacity as the kubelet reports it: cpu in cores (or millicores), memory and storage in BinarySI. */
export function capacityList(amounts: ResourceAmounts): ResourceList {
  return {
    cpu: formatCpu(amounts.cpuMillis),
    'ephemeral-storage': formatBytes(amounts.ephemeralStorageBytes),
    memory: formatBytes(amounts.memoryBytes),
    pods: String(amounts.pods),
  };
}

/** Capacity minus the reservations and hard eviction thresholds, each floored at zero. */
export function allocatableAmounts(capacity: ResourceAmounts, reserved: readonly Reservation[], evictionHard: EvictionHard = DEFAULT_EVICTION_HARD): ResourceAmounts {
  const sum = (pick: (r: Reservation) => number | undefined): number => reserved.reduce((total, r) => total + (pick(r) ?? 0), 0);
  const memoryThreshold = Math.max(evictionHard.memoryAvailableBytes ?? 0, Math.floor(capacity.memoryBytes * (evictionHard.memoryAvailableShare ?? 0)));
  const nodefsThreshold = Math.max(evictionHard.nodefsAvailableBytes ?? 0, Math.floor(capacity.ephemeralStorageBytes * (evictionHard.nodefsAvailableShare ?? 0)));
  return {
    cpuMillis: Math.max(0, capacity.cpuMillis - sum((r) => r.cpuMillis)),
    memoryBytes: Math.max(0, capacity.memoryBytes - sum((r) => r.memoryBytes) - memoryThreshold),
    ephemeralStorageBytes: Math.max(0, capacity.ephemeralStorageBytes - sum((r) => r.ephemeralStorageBytes) - nodefsThreshold),
    pods: capacity.pods,
  };
}

/** Millicores as a quantity: whole cores as "2", else "1500m". */
export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Bytes as a BinarySI quantity: the largest binary suffix that is exact ("8141168Ki"), else bytes. */
export function formatBytes(bytes: number): string {
  if (bytes === 0) return '0';
  const suffixes = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'];
  for (let i = 0; i < suffixes.length; i++) {
    const unit = 2 ** (10 * (6 - i));
    if (bytes % unit === 0) return `${bytes / unit}${suffixes[i] as string}`;
  }
  return String(bytes);
}

/**
 * Parses a `name=quantity,...` flag (--kube-reserved, --system-reserved, --node-capacity) as
 * upstream's ParseResourceList: cpu, memory, ephemeral-storage and pid; a negative or malformed
 * quantity or another name is refused with upstream's wording.
 */
export function parseReservation(text: string): Reservation {
  const result: { cpuMillis?: number; memoryBytes?: number; ephemeralStorageBytes?: number; pid?: number } = {};
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const at = item.indexOf('=');
    if (at <= 0) throw new Error(`invalid resource "${item}": takes name=quantity`);
    const name = item.slice(0, at).trim();
    const value = item.slice(at + 1).trim();
    const quantity = tryParseQuantity(value);
    if (quantity === undefined) throw new Error(`failed to parse quantity "${value}" for resource "${name}"`);
    if (quantity.numerator < 0n) throw new Error(`resource quantity for "${name}" cannot be negative: ${value}`);
    switch (name) {
      case 'cpu':
        result.cpuMillis = milliValue(quantity);
        break;
      case 'memory':
        result.memoryBytes = integerValue(quantity);
        break;
      case 'ephemeral-storage':
        result.ephemeralStorageBytes = integerValue(quantity);
        break;
      case 'pid':
        result.pid = integerValue(quantity);
        break;
      default:
        throw new Error(`cannot reserve "${name}" resource`);
    }
  }
  return result;
}

/**
 * Parses --eviction-hard ("memory.available<100Mi,nodefs.available<10%"); signals that do not
 * reduce allocatable (imagefs.*, nodefs.inodesFree, pid.available) are accepted and ignored here.
 */
export function parseEvictionHard(text: string): EvictionHard {
  const result: { memoryAvailableBytes?: number; memoryAvailableShare?: number; nodefsAvailableShare?: number; nodefsAvailableBytes?: number } = {};
  const known = new Set(['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available', 'containerfs.available', 'containerfs.inodesFree']);
  for (const item of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const match = /^([a-zA-Z.]+)<(.+)$/.exec(item);
    if (match === null) throw new Error(`invalid eviction threshold "${item}": takes signal<quantity or signal<percent%`);
    const [, signal = '', value = ''] = match;
    if (!known.has(signal)) throw new Error(`unknown eviction signal "${signal}"`);
    if (value.endsWith('%')) {
      const percent = Number(value.slice(0, -1));
      if (!Number.isFinite(percent) || percent < 0 || percent > 100) throw new Error(`invalid percentage "${value}" for eviction signal "${signal}"`);
      if (signal === 'nodefs.available') result.nodefsAvailableShare = percent / 100;
      else if (signal === 'memory.available') result.memoryAvailableShare = percent / 100;
      continue;
    }
    const quantity = tryParseQuantity(value);
    if (quantity === undefined || quantity.numerator < 0n) throw new Error(`invalid quantity "${value}" for eviction signal "${signal}"`);
    if (signal === 'memory.available') result.memoryAvailableBytes = integerValue(quantity);
    else if (signal === 'nodefs.available') result.nodefsAvailableBytes = integerValue(quantity);
  }
  return result;
}

/** A positive byte size given as a quantity ("10Mi", "1G", "4096"), as --container-log-max-size takes it. */
export function parseByteSize(text: string): number {
  const quantity = tryParseQuantity(text.trim());
  if (quantity === undefined) throw new Error(`invalid size "${text}": takes a quantity such as 10Mi`);
  const bytes = integerValue(quantity);
  if (bytes <= 0) throw new Error(`must be positive, got ${text}`);
  return bytes;
}
