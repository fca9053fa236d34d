import { readFile } from 'node:fs/promises';
import { run } from '../network/command.js';

/**
 * tmpfs for `emptyDir.medium: Memory` (mount(8) needs root or CAP_SYS_ADMIN) and unmounting what a
 * pod's folder holds; mounts are read back from /proc/self/mountinfo, so a restarted agent finds them.
 */

/** Mount points at or under `dir`, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const table = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const points = table
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    .map(unescapeMountPath)
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export async function mountTmpfs(dir: string, sizeBytes: number | undefined): Promise<void> {
  const options = ['mode=0777', ...(sizeBytes !== undefined ? [`size=${sizeBytes}`] : [])].join(',');
  await run(['mount', '-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
}

export async function unmount(dir: string): Promise<void> {
  await run(['umount', dir]);
}

/** Whether this process may mount (root; a container without CAP_SYS_ADMIN fails at mount time). */
export function mayMount(): boolean {
  return process.getuid?.() === 0;
}

function unescapeMountPath(raw: string): string {
  return raw.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
