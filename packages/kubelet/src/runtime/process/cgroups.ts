/**
 * One cgroup per container, under a parent of the runtime's (`k8ts` by default):
 * - v1 (this machine): /sys/fs/cgroup/{memory,cpu,cpuacct}/<parent>/<containerId> with
 *   memory.limit_in_bytes, cpu.cfs_quota_us/cfs_period_us and cpu.shares; an OOM kill shows in
 *   memory.oom_control's `oom_kill` counter.
 * - v2 (unified hierarchy at /sys/fs/cgroup): /sys/fs/cgroup/<parent>/<containerId> with memory.max,
 *   cpu.max and cpu.weight; an OOM kill shows in memory.events' `oom_kill`.
 * The container's first process joins by writing 0 to each `procFiles` entry before it execs the
 * command (the shim does it). Where cgroups cannot be made (no privileges), `create` returns undefined
 * and the runtime measures usage from /proc instead.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerResources } from '../runtime.js';

export interface ContainerCgroup {
  /** Files the container's process writes `0` into to join. */
  readonly procFiles: readonly string[];
  /** Every process in the container's cgroup (its escaped children too). */
  pids(): number[];
  usage(): { cpuNanos: number; memoryWorkingSetBytes: number };
  /** True once the kernel's OOM killer has killed a process of this cgroup. */
  oomKilled(): boolean;
  /** Removes the cgroup (its processes must be gone); a no-op when already removed. */
  remove(): void;
}

export interface Cgroups {
  readonly version: 1 | 2;
  create(containerId: string, resources: ContainerResources): ContainerCgroup | undefined;
  /** The cgroup of a container made earlier (adoption), if it still exists. */
  open(containerId: string): ContainerCgroup | undefined;
}

const ROOT = '/sys/fs/cgroup';
const CPU_PERIOD_US = 100_000;
const MIN_CPU_QUOTA_US = 1_000;

/** The cgroups this process may create, or undefined (not root, or no usable hierarchy). */
export function detectCgroups(parent = 'k8ts'): Cgroups | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    if (existsSync(join(ROOT, 'cgroup.controllers'))) return new CgroupsV2(parent);
    if (existsSync(join(ROOT, 'memory', 'memory.limit_in_bytes'))) return new CgroupsV1(parent);
  } catch {
    return undefined;
  }
  return undefined;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function keyed(text: string, key: string): number {
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return match === null ? 0 : Number(match[1]);
}

function pidsIn(file: string): number[] {
  return read(file)
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

function removeDir(path: string): void {
  try {
    rmdirSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

class CgroupsV1 implements Cgroups {
  readonly version = 1;
  private readonly memoryRoot: string;
  private readonly cpuRoot: string;
  private readonly cpuacctRoot: string;

  constructor(parent: string) {
    this.memoryRoot = join(ROOT, 'memory', parent);
    this.cpuRoot = join(ROOT, 'cpu', parent);
    this.cpuacctRoot = join(ROOT, 'cpuacct', parent);
    for (const dir of [this.memoryRoot, this.cpuRoot, this.cpuacctRoot]) mkdirSync(dir, { recursive: true });
  }

  create(containerId: string, resources: ContainerResources): ContainerCgroup {
    const dirs = this.dirs(containerId);
    for (const dir of new Set(Object.values(dirs))) mkdirSync(dir, { recursive: true });
    if (resources.memoryLimitBytes !== undefined) {
      writeFileSync(join(dirs.memory, 'memory.limit_in_bytes'), String(resources.memoryLimitBytes));
      // No swap beyond the limit, where swap accounting exists, so the limit is the limit.
      const memsw = join(dirs.memory, 'memory.memsw.limit_in_bytes');
      if (existsSync(memsw)) writeFileSync(memsw, String(resources.memoryLimitBytes));
    }
    if (resources.cpuLimitMillis !== undefined) {
      writeFileSync(join(dirs.cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
      const quota = Math.max(MIN_CPU_QUOTA_US, Math.round((resources.cpuLimitMillis * CPU_PERIOD_US) / 1000));
      writeFileSync(join(dirs.cpu, 'cpu.cfs_quota_us'), String(quota));
    }
    if (resources.cpuRequestMillis !== undefined) {
      writeFileSync(join(dirs.cpu, 'cpu.shares'), String(Math.max(2, Math.round((resources.cpuRequestMillis * 1024) / 1000))));
    }
    return this.handle(dirs);
  }

  open(containerId: string): ContainerCgroup | undefined {
    const dirs = this.dirs(containerId);
    return existsSync(dirs.memory) ? this.handle(dirs) : undefined;
  }

  private dirs(containerId: string): { memory: string; cpu: string; cpuacct: string } {
    // cpu and cpuacct are often one hierarchy mounted twice (cpu,cpuacct): join it once.
    const cpu = join(this.cpuRoot, containerId);
    const sameHierarchy = realpathSync(this.cpuRoot) === realpathSync(this.cpuacctRoot);
    return { memory: join(this.memoryRoot, containerId), cpu, cpuacct: sameHierarchy ? cpu : join(this.cpuacctRoot, containerId) };
  }

  private handle(dirs: { memory: string; cpu: string; cpuacct: string }): ContainerCgroup {
    const unique = [...new Set(Object.values(dirs))];
    return {
      procFiles: unique.map((dir) => join(dir, 'cgroup.procs')),
      pids: () => pidsIn(join(dirs.memory, 'cgroup.procs')),
      usage: () => {
        const usage = Number(read(join(dirs.memory, 'memory.usage_in_bytes')) || 0);
        const inactive = keyed(read(join(dirs.memory, 'memory.stat')), 'total_inactive_file');
        return {
          cpuNanos: Number(read(join(dirs.cpuacct, 'cpuacct.usage')) || 0),
          memoryWorkingSetBytes: Math.max(0, usage - inactive),
        };
      },
      oomKilled: () => keyed(read(join(dirs.memory, 'memory.oom_control')), 'oom_kill') > 0,
      remove: () => unique.forEach(removeDir),
    };
  }
}

class CgroupsV2 implements Cgroups {
  readonly version = 2;
  private readonly root: string;

  constructor(parent: string) {
    this.root = join(ROOT, parent);
    mkdirSync(this.root, { recursive: true });
    // Let the parent's children have memory and cpu controllers (the top level must allow them too).
    for (const dir of [ROOT, this.root]) {
      try {
        writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory +cpu');
      } catch {
        // Already enabled, or not delegable: limits then fail at create time and say so.
      }
    }
  }

  create(containerId: string, resources: ContainerResources): ContainerCgroup {
    const dir = join(this.root, containerId);
    mkdirSync(dir, { recursive: true });
    if (resources.memoryLimitBytes !== undefined) {
      writeFileSync(join(dir, 'memory.max'), String(resources.memoryLimitBytes));
      const swap = join(dir, 'memory.swap.max');
      if (existsSync(swap)) writeFileSync(swap, '0');
    }
    if (resources.cpuLimitMillis !== undefined) {
      const quota = Math.max(MIN_CPU_QUOTA_US, Math.round((resources.cpuLimitMillis * CPU_PERIOD_US) / 1000));
      writeFileSync(join(dir, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`);
    }
    if (resources.cpuRequestMillis !== undefined) {
      // Kubernetes' shares → weight conversion.
      const shares = Math.max(2, Math.round((resources.cpuRequestMillis * 1024) / 1000));
      writeFileSync(join(dir, 'cpu.weight'), String(Math.round(1 + ((shares - 2) * 9999) / 262142)));
    }
    return this.handle(dir);
  }

  open(containerId: string): ContainerCgroup | undefined {
    const dir = join(this.root, containerId);
    return existsSync(dir) ? this.handle(dir) : undefined;
  }

  private handle(dir: string): ContainerCgroup {
    return {
      procFiles: [join(dir, 'cgroup.procs')],
      pids: () => pidsIn(join(dir, 'cgroup.procs')),
      usage: () => {
        const current = Number(read(join(dir, 'memory.current')) || 0);
        const inactive = keyed(read(join(dir, 'memory.stat')), 'inactive_file');
        return {
          cpuNanos: keyed(read(join(dir, 'cpu.stat')), 'usage_usec') * 1000,
          memoryWorkingSetBytes: Math.max(0, current - inactive),
        };
      },
      oomKilled: () => keyed(read(join(dir, 'memory.events')), 'oom_kill') > 0,
      remove: () => removeDir(dir),
    };
  }
}
