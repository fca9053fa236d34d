/**
 * What /proc says about processes: identity (a pid plus its start time names one process, even after
 * the pid is reused), process groups, and usage where no cgroup measures it.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcessIdentity {
  readonly pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks since boot): differs for a reused pid. */
  readonly startTime: string;
}

interface ProcStat {
  readonly state: string;
  readonly pgrp: number;
  readonly utimeTicks: number;
  readonly stimeTicks: number;
  readonly startTime: string;
  readonly rssPages: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    state: fields[0] ?? '?',
    pgrp: Number(fields[2]),
    utimeTicks: Number(fields[11]),
    stimeTicks: Number(fields[12]),
    startTime: fields[19] ?? '',
    rssPages: Number(fields[21]),
  };
}

export function identify(pid: number): ProcessIdentity | undefined {
  const stat = readStat(pid);
  return stat === undefined ? undefined : { pid, startTime: stat.startTime };
}

/** True while the process named by `identity` exists and is not a zombie. */
export function isAlive(identity: ProcessIdentity): boolean {
  const stat = readStat(identity.pid);
  return stat !== undefined && stat.startTime === identity.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

export function processGroupOf(pid: number): number | undefined {
  return readStat(pid)?.pgrp;
}

/** Every live process of each process group (one pass over /proc). */
export function processGroups(): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat === undefined || stat.state === 'Z') continue;
    const members = groups.get(stat.pgrp);
    if (members === undefined) groups.set(stat.pgrp, [pid]);
    else members.push(pid);
  }
  return groups;
}

/** Every live process of a process group. */
export function groupMembers(pgid: number): number[] {
  return processGroups().get(pgid) ?? [];
}

const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

/** Summed cpu time and resident memory of some processes (the measurement without cgroups). */
export function usageOf(pids: readonly number[]): { cpuNanos: number; memoryBytes: number } {
  let ticks = 0;
  let pages = 0;
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat === undefined) continue;
    ticks += stat.utimeTicks + stat.stimeTicks;
    pages += stat.rssPages;
  }
  return { cpuNanos: (ticks * 1e9) / CLOCK_TICKS_PER_SECOND, memoryBytes: pages * PAGE_BYTES };
}

/** Sends `signal` to a process group; false if it no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
