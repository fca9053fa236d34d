import { mkdir, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatIpv4, parseIpv4, type Ipv4Cidr } from './ipv4.js';

/** The podCIDR has no free address left: the message is host-local IPAM's, as the kubelet reports it. */
export class IpExhaustedError extends Error {
  constructor(cidr: Ipv4Cidr) {
    super(
      `failed to allocate for range 0: no IP addresses available in range set: ` +
        `${formatIpv4(cidr.gateway)}-${formatIpv4(cidr.lastPod)}`,
    );
    this.name = 'IpExhaustedError';
  }
}

const LAST_RESERVED = 'last_reserved_ip';

/**
 * Pod IPs from the node's podCIDR, kept on disk as CNI's host-local plugin keeps them: one file per
 * address, named by it and holding its owner (the sandbox id), created exclusively and synced before
 * the address is handed out, so two allocators (or a restarted agent) can never hand one address out
 * twice. Allocation goes round the range from the last address reserved, so a freed address is not
 * reused at once (late packets for the old pod do not reach a new one).
 *
 * An instance reads the folder once and then keeps its own index: reading every file on each
 * allocation cost a busy node more than the rest of a pod's network set-up. Another instance's claims
 * are found as they collide (the exclusive create fails) and by `allocations()`, which reads the
 * folder again; an owner is looked up in this instance's index, so one agent at a time owns a folder.
 */
export class HostLocalIpam {
  /** address → owner, as on disk; loaded on first use. */
  private index: Promise<Map<string, string>> | undefined;
  private lastReserved: string | undefined;

  constructor(private readonly dir: string) {}

  /** The owner's address in `cidr`: the one it holds already, or a newly reserved one. */
  async allocate(owner: string, cidr: Ipv4Cidr): Promise<string> {
    const { firstPod, lastPod } = cidr;
    const held = await this.lookup(owner);
    if (held !== undefined) {
      const value = parseIpv4(held) ?? -1;
      if (value >= firstPod && value <= lastPod) return held;
      // An address from another range (the node's podCIDR changed) is of no use any more.
      await this.release(owner);
    }
    await mkdir(this.dir, { recursive: true });
    const index = await this.known();
    const size = lastPod - firstPod + 1;
    this.lastReserved ??= (await readFile(join(this.dir, LAST_RESERVED), 'utf8').catch(() => '')).trim();
    const last = parseIpv4(this.lastReserved);
    const start = last !== undefined && last >= firstPod && last <= lastPod ? last - firstPod + 1 : 0;
    for (let step = 0; step < size; step++) {
      const ip = formatIpv4(firstPod + ((start + step) % size));
      if (index.has(ip)) continue;
      const holder = await this.claim(ip, owner);
      index.set(ip, holder);
      if (holder === owner) {
        this.lastReserved = ip;
        // Only a hint for the next allocation: losing it costs nothing but rotation.
        await writeFile(join(this.dir, LAST_RESERVED), ip).catch(() => {});
        return ip;
      }
    }
    throw new IpExhaustedError(cidr);
  }

  /** The address the owner holds, if any. */
  async lookup(owner: string): Promise<string | undefined> {
    for (const [ip, holder] of await this.known()) if (holder === owner) return ip;
    return undefined;
  }

  /** Frees every address the owner holds (none: a no-op). */
  async release(owner: string): Promise<void> {
    const index = await this.known();
    for (const [ip, holder] of [...index]) {
      if (holder !== owner) continue;
      await rm(join(this.dir, ip), { force: true });
      index.delete(ip);
    }
  }

  /** Every reserved address, with its owner, read from the folder (and the index brought up to date). */
  async allocations(): Promise<Map<string, string>> {
    const fresh = this.scan();
    this.index = fresh;
    fresh.catch(() => {
      if (this.index === fresh) this.index = undefined;
    });
    return new Map(await fresh);
  }

  private known(): Promise<Map<string, string>> {
    if (this.index === undefined) return this.allocations().then(() => this.index!);
    return this.index;
  }

  private async scan(): Promise<Map<string, string>> {
    const names = await readdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
    const result = new Map<string, string>();
    for (const name of names) {
      if (parseIpv4(name) === undefined) continue;
      const owner = await readFile(join(this.dir, name), 'utf8').catch(() => undefined);
      // An empty file is a claim caught between create and write: its owner is unknown, keep it taken.
      if (owner !== undefined) result.set(name, owner.trim());
    }
    return result;
  }

  /** Claims the address for `owner`; the holder it has when taken already (by another instance). */
  private async claim(ip: string, owner: string): Promise<string> {
    let file;
    try {
      file = await open(join(this.dir, ip), 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        return (await readFile(join(this.dir, ip), 'utf8').catch(() => '')).trim();
      }
      throw error;
    }
    try {
      await file.writeFile(owner);
      await file.sync();
    } finally {
      await file.close();
    }
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return owner;
  }
}
