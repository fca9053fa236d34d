/** The processes a benchmark started, found through Linux /proc (empty lists elsewhere). */
import { readdirSync, readFileSync } from 'node:fs';

/** The parent process id in /proc/<pid>/stat text (field 4, after the parenthesized name). */
export function parseParentPid(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const parent = Number(fields[1]);
  if (!Number.isInteger(parent)) throw new Error(`unreadable /proc stat: ${stat.slice(0, 80)}`);
  return parent;
}

/** Direct children of this process whose command line contains `text`. */
export function childPidsMatching(text: string): number[] {
  try {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .flatMap((entry) => {
        try {
          if (parseParentPid(readFileSync(`/proc/${entry}/stat`, 'utf8')) !== process.pid) return [];
          return readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(text) ? [Number(entry)] : [];
        } catch {
          return []; // exited meanwhile
        }
      });
  } catch {
    return [];
  }
}
