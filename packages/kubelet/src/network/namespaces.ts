import { mkdir, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, runIgnoring } from './command.js';

const NOT_MOUNTED = /not mounted|no mount point specified|No such file or directory/;

/**
 * Persistent network and UTS namespaces of pods, as files under one folder (`<id>.net`, `<id>.uts`):
 * each is a bind mount of the namespace, which keeps it alive with no process in it, as
 * `ip netns add` does under /run/netns. A folder under the agent's root dir (not /run/netns) keeps
 * the names of several agents on one machine apart.
 *
 * The folder is made a shared mount (as `ip netns` makes /run/netns), so that a namespace unmounted
 * here also goes from the mount namespaces of containers created with slave propagation; otherwise
 * each of them would keep a copy of every pod's namespace alive.
 */
export class NamespaceFiles {
  private shared: Promise<void> | undefined;

  constructor(readonly dir: string) {}

  netPath(id: string): string {
    return join(this.dir, `${id}.net`);
  }

  utsPath(id: string): string {
    return join(this.dir, `${id}.uts`);
  }

  /** Creates the pod's network namespace and a UTS namespace whose hostname is `hostname`. */
  async create(id: string, hostname: string): Promise<void> {
    await this.ensureSharedDir();
    await writeFile(this.netPath(id), '');
    await writeFile(this.utsPath(id), '');
    await run(['unshare', `--net=${this.netPath(id)}`, `--uts=${this.utsPath(id)}`, 'hostname', hostname]);
  }

  /** Whether both namespaces of the pod are held (a reboot, or a lost mount namespace, drops them). */
  async exist(id: string): Promise<boolean> {
    const mounts = await mountPoints();
    for (const path of [this.netPath(id), this.utsPath(id)]) {
      const real = await realpath(path).catch(() => undefined);
      if (real === undefined || !mounts.has(real)) return false;
    }
    return true;
  }

  /** Unmounts and deletes the pod's namespace files; a no-op for what is not there. */
  async remove(id: string): Promise<void> {
    const mounts = await mountPoints();
    for (const path of [this.netPath(id), this.utsPath(id)]) {
      const real = await realpath(path).catch(() => undefined);
      if (real === undefined) continue;
      if (mounts.has(real)) await runIgnoring(['umount', path], NOT_MOUNTED);
      await rm(path, { force: true });
    }
  }

  /** The ids that have a namespace file here. */
  async ids(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const ids = new Set<string>();
    for (const name of names) {
      const match = /^(.+)\.(net|uts)$/.exec(name);
      if (match?.[1] !== undefined) ids.add(match[1]);
    }
    return [...ids];
  }

  private ensureSharedDir(): Promise<void> {
    this.shared ??= this.makeSharedDir().catch((error: unknown) => {
      this.shared = undefined;
      throw error;
    });
    return this.shared;
  }

  private async makeSharedDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const dir = await realpath(this.dir);
    if (!(await mountPoints()).has(dir)) await run(['mount', '--bind', dir, dir]);
    await run(['mount', '--make-shared', dir]);
  }
}

/** The mount points of this process's mount namespace (mountinfo's fifth field, unescaped). */
async function mountPoints(): Promise<Set<string>> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const points = new Set<string>();
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field !== undefined) points.add(field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  }
  return points;
}
