import { mkdir, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, shellQuote } from './command.js';

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

  /**
   * Makes the files the pod's namespaces are bound to; `createLines` then makes the namespaces
   * (a script, so the whole network build is one process tree).
   */
  async prepare(id: string): Promise<void> {
    await this.ensureSharedDir();
    await writeFile(this.netPath(id), '');
    await writeFile(this.utsPath(id), '');
  }

  /**
   * Script lines that create the pod's network namespace and a UTS namespace whose hostname is
   * `hostname`, and run `ip -batch` in the new network namespace on the input in `batch`.
   */
  createLines(id: string, hostname: string, batch: readonly string[]): string[] {
    // `hostname` (sethostname(2)) rather than a write to /proc/sys/kernel/hostname: containers
    // (a compose node) mount /proc/sys read-only.
    const inside = `hostname "$1" && exec ip -batch -`;
    return [
      `unshare --net=${shellQuote(this.netPath(id))} --uts=${shellQuote(this.utsPath(id))} sh -ec ${shellQuote(inside)} sh ${shellQuote(hostname)} <<'K8TS_BATCH'`,
      ...batch,
      'K8TS_BATCH',
    ];
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

  /** Script lines that unmount the pod's namespaces (none when neither is mounted). */
  async unmountLines(id: string): Promise<string[]> {
    const mounts = await mountPoints();
    const mounted: string[] = [];
    for (const path of [this.netPath(id), this.utsPath(id)]) {
      const real = await realpath(path).catch(() => undefined);
      if (real !== undefined && mounts.has(real)) mounted.push(path);
    }
    return mounted.length === 0 ? [] : [`umount ${mounted.map(shellQuote).join(' ')}`];
  }

  /** Deletes the pod's namespace files (once unmounted); a no-op for what is not there. */
  async deleteFiles(id: string): Promise<void> {
    await rm(this.netPath(id), { force: true });
    await rm(this.utsPath(id), { force: true });
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
