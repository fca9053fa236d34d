import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU spent during a test, as a percentage of one core over the test's wall time: by this load
 * generator (so a reader sees when the client, not the store, was the limit) and, when the run
 * started the members, by the members together (Linux /proc; absent elsewhere).
 */
export interface CpuUse {
  readonly loadGeneratorPercent: number;
  readonly membersPercent?: number;
  /** The whole machine (all cores; 200% is a busy 2-core machine), from /proc/stat. */
  readonly machinePercent?: number;
  /** The machine less this load generator and the members: other work sharing the cores. */
  readonly otherProcessesPercent?: number;
}

let clockTicksPerSecond: number | undefined;
function ticksPerSecond(): number {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

/** utime + stime of a process from /proc/<pid>/stat text, in clock ticks. */
export function parseProcStatTicks(stat: string): number {
  // The command name (field 2) is parenthesized and may hold spaces; fields after it are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat: ${stat.slice(0, 80)}`);
  return utime + stime;
}

/** Busy time of all cores from /proc/stat text, in clock ticks (user, nice, system, irq, softirq). */
export function parseMachineBusyTicks(stat: string): number {
  const line = stat.split('\n').find((text) => text.startsWith('cpu '));
  if (line === undefined) throw new Error('no cpu line in /proc/stat');
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return user + nice + system + irq + softirq;
}

function machineBusyMs(): number | undefined {
  try {
    return (parseMachineBusyTicks(readFileSync('/proc/stat', 'utf8')) * 1000) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

export function processCpuMs(pid: number): number | undefined {
  try {
    return (parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

function membersCpuMs(pids: readonly number[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const ms = processCpuMs(pid);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return total;
}

/** Runs `work` and reports the CPU it took, here and in the member processes. */
export async function measureCpu<T>(memberPids: readonly number[], work: () => Promise<T>): Promise<{ result: T; cpu: CpuUse }> {
  const wallStart = performance.now();
  const selfStart = process.cpuUsage();
  const membersStart = memberPids.length > 0 ? membersCpuMs(memberPids) : undefined;
  const machineStart = machineBusyMs();
  const result = await work();
  const wallMs = performance.now() - wallStart;
  const selfMs = (({ user, system }) => (user + system) / 1000)(process.cpuUsage(selfStart));
  const membersMs = membersStart === undefined ? undefined : subtract(membersCpuMs(memberPids), membersStart);
  const machineMs = machineStart === undefined ? undefined : subtract(machineBusyMs(), machineStart);
  const percent = (cpuMs: number): number => (wallMs > 0 ? Math.round((cpuMs / wallMs) * 1000) / 10 : 0);
  return {
    result,
    cpu: {
      loadGeneratorPercent: percent(selfMs),
      ...(membersMs === undefined ? {} : { membersPercent: percent(membersMs) }),
      ...(machineMs === undefined ? {} : { machinePercent: percent(machineMs) }),
      ...(machineMs === undefined ? {} : { otherProcessesPercent: percent(Math.max(0, machineMs - selfMs - (membersMs ?? 0))) }),
    },
  };
}

function subtract(end: number | undefined, start: number): number | undefined {
  return end === undefined ? undefined : end - start;
}
