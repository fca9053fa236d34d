/**
 * Pod addresses of one simulated node, from its podCIDR as host-local IPAM hands them out (the
 * network's ipv4.ts arithmetic: the gateway keeps the first address, pods draw the rest): round
 * robin from the last address given, so an address just freed is not reused at once. In memory
 * only — a restarted fleet claims the addresses its running pods report.
 */
import { formatIpv4, parseIpv4, parseIpv4Cidr, type Ipv4Cidr } from '../network/ipv4.js';

/** The `index`-th /24 of `range` (a node's podCIDR when no node IPAM gave it one). */
export function nthSubnet24(range: string, index: number): string {
  const cidr = parseIpv4Cidr(range);
  if (cidr.prefixLength > 24) throw new RangeError(`pod range ${range} is smaller than one /24`);
  const count = 2 ** (24 - cidr.prefixLength);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`pod range ${range} holds ${count} /24 subnets, not ${index + 1}`);
  return `${formatIpv4(cidr.network + index * 256)}/24`;
}

export class PodIpPool {
  private readonly cidr: Ipv4Cidr;
  private readonly taken = new Set<number>();
  private next: number;

  constructor(readonly podCidr: string) {
    this.cidr = parseIpv4Cidr(podCidr);
    this.next = this.cidr.firstPod;
  }

  get capacity(): number {
    return this.cidr.lastPod - this.cidr.firstPod + 1;
  }

  get used(): number {
    return this.taken.size;
  }

  /** A free address; undefined when the CIDR is full. */
  allocate(): string | undefined {
    for (let step = 0; step < this.capacity; step++) {
      const address = this.next;
      this.next = address >= this.cidr.lastPod ? this.cidr.firstPod : address + 1;
      if (!this.taken.has(address)) {
        this.taken.add(address);
        return formatIpv4(address);
      }
    }
    return undefined;
  }

  /** Marks an address in use (a pod found running after a restart); false when it is not one of this CIDR's pod addresses. */
  claim(ip: string): boolean {
    const address = this.addressOf(ip);
    if (address === undefined) return false;
    this.taken.add(address);
    return true;
  }

  release(ip: string): void {
    const address = this.addressOf(ip);
    if (address !== undefined) this.taken.delete(address);
  }

  private addressOf(ip: string): number | undefined {
    const address = parseIpv4(ip);
    return address !== undefined && address >= this.cidr.firstPod && address <= this.cidr.lastPod ? address : undefined;
  }
}
