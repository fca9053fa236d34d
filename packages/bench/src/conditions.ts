import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import type { StoreBenchOptions } from './options.js';
import type { Conditions, MachineConditions } from './results.js';

/** The machine, as every benchmark prints it beside its figures. */
export function captureMachine(startedAt: Date, benchProcess: string): MachineConditions {
  return {
    startedAt: startedAt.toISOString(),
    cpuCores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    nodeVersion: process.version,
    platform: `${process.platform} ${release()} ${process.arch}`,
    benchProcess,
  };
}

/** The machine and the run's settings, as printed beside the figures. */
export function captureConditions(options: StoreBenchOptions, startedAt: Date): Conditions {
  return {
    ...captureMachine(startedAt, 'one Node.js process on the same machine as the members (it shares their cores)'),
    keySizeBytes: options.keySizeBytes,
    valueSizeBytes: options.valueSizeBytes,
    keySpaceSize: options.keySpaceSize,
    keyOrder: options.sequentialKeys ? 'sequential' : 'random',
    seed: options.seed,
    warmupPuts: options.warmupPuts,
    rounds: options.rounds,
    maxSecondsPerTest: options.maxSecondsPerTest,
    requestTimeoutMs: options.requestTimeoutMs,
  };
}

export interface Mount {
  readonly device: string;
  readonly mountPoint: string;
  readonly type: string;
}

/** Parses /proc/mounts text (octal escapes such as \040 in paths decoded). */
export function parseMounts(text: string): Mount[] {
  const unescape = (field: string): string => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields.length >= 3)
    .map(([device = '', mountPoint = '', type = '']) => ({ device: unescape(device), mountPoint: unescape(mountPoint), type }));
}

/** The mount holding an absolute path: the longest mount point that is a prefix of it (the last such, as mounts stack). */
export function mountOf(mounts: readonly Mount[], path: string): Mount | undefined {
  let best: Mount | undefined;
  for (const mount of mounts) {
    const point = mount.mountPoint;
    const holds = point === '/' || path === point || path.startsWith(point.endsWith('/') ? point : `${point}/`);
    if (holds && (best === undefined || point.length >= best.mountPoint.length)) best = mount;
  }
  return best;
}

/** "ext4 (/dev/vda on /)" for a path, so a reader sees whether fsync reached a disk or tmpfs. */
export function describeFilesystem(path: string): string {
  try {
    const mount = mountOf(parseMounts(readFileSync('/proc/mounts', 'utf8')), path);
    return mount ? `${mount.type} (${mount.device} on ${mount.mountPoint})` : 'unknown';
  } catch {
    return 'unknown';
  }
}
