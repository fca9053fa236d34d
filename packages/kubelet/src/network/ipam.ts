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
 */
export class HostLocalIpam {
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
    const taken = new Set((await this.allocations()).keys());
    const size = lastPod - firstPod + 1;
    const last = parseIpv4((await readFile(join(this.dir, LAST_RESERVED), 'utf8').catch(() => '')).trim());
    const start = last !== undefined && last >= firstPod && last <= lastPod ? last - firstPod + 1 : 0;
    for (let step = 0; step < size; step++) {
      const ip = formatIpv4(firstPod + ((start + step) % size));
      if (taken.has(ip)) continue;
      if (await this.claim(ip, owner)) {
        // Only a hint for the next allocation: losing it costs nothing but rotation.
        await writeFile(join(this.dir, LAST_RESERVED), ip).catch(() => {});
        return ip;
      }
    }
    throw new IpExhaustedError(cidr);
  }

  /** The address the owner holds, if any. */
  async lookup(owner: string): Promise<string | undefined> {
    for (const [ip, holder] of await this.allocations()) if (holder === owner) return ip;
    return undefined;
  }

  /** Frees every address the owner holds (none: a no-op). */
  async release(owner: string): Promise<void> {
    for (const [ip, holder] of await this.allocations()) {
      if (holder === owner) await rm(join(this.dir, ip), { force: true });
    }
  }

  /** Every reserved address, with its owner. */
  async allocations(): Promise<Map<string, string>> {
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

  private async claim(ip: string, owner: string): Promise<boolean> {
    let file;
    try {
      file = await open(join(this.dir, ip), 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
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
    return true;
  }
}
