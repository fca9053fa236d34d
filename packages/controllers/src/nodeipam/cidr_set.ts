/**
 * The node CIDRs of one cluster CIDR and which are taken (upstream nodeipam/ipam/cidrset): the
 * cluster range cut into subnets of the node mask size, handed out round-robin from where the last
 * allocation ended, so a released CIDR is not handed out again at once.
 */
import { familyBits, formatCidr, type Cidr } from './cidr.js';

/** At most 2^16 node CIDRs per cluster CIDR, as upstream (clusterSubnetMaxDiff). */
export const MAX_SUBNET_BITS = 16;

export class CidrRangeFullError extends Error {
  constructor() {
    super('CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range');
  }
}

export class CidrSet {
  private readonly used: Uint8Array;
  private readonly count: number;
  private nextCandidate = 0;
  private allocated = 0;

  constructor(
    readonly cluster: Cidr,
    readonly nodeMaskSize: number,
  ) {
    if (nodeMaskSize < cluster.prefix || nodeMaskSize > familyBits(cluster.family)) {
      throw new Error(`invalid node CIDR mask size ${nodeMaskSize} for cluster CIDR ${formatCidr(cluster)}: it must be between ${cluster.prefix} and ${familyBits(cluster.family)}`);
    }
    if (nodeMaskSize - cluster.prefix > MAX_SUBNET_BITS) throw new Error(`New CIDR set failed; the node CIDR size is too big: ${formatCidr(cluster)} cut into /${nodeMaskSize} gives more than 2^${MAX_SUBNET_BITS} node CIDRs`);
    this.count = 2 ** (nodeMaskSize - cluster.prefix);
    this.used = new Uint8Array(this.count);
  }

  /** Node CIDRs still free. */
  free(): number {
    return this.count - this.allocated;
  }

  allocateNext(): Cidr {
    for (let step = 0; step < this.count; step++) {
      const index = (this.nextCandidate + step) % this.count;
      if (this.used[index] === 1) continue;
      this.used[index] = 1;
      this.allocated++;
      this.nextCandidate = (index + 1) % this.count;
      return this.subnet(index);
    }
    throw new CidrRangeFullError();
  }

  /** Marks every node CIDR `cidr` overlaps as taken (a node's CIDR found on the node). */
  occupy(cidr: Cidr): void {
    const [first, last] = this.indices(cidr);
    for (let index = first; index <= last; index++) {
      if (this.used[index] === 0) this.allocated++;
      this.used[index] = 1;
    }
  }

  release(cidr: Cidr): void {
    const [first, last] = this.indices(cidr);
    for (let index = first; index <= last; index++) {
      if (this.used[index] === 1) this.allocated--;
      this.used[index] = 0;
    }
  }

  isTaken(cidr: Cidr): boolean {
    const [first, last] = this.indices(cidr);
    for (let index = first; index <= last; index++) if (this.used[index] === 1) return true;
    return false;
  }

  private subnet(index: number): Cidr {
    const shift = BigInt(familyBits(this.cluster.family) - this.nodeMaskSize);
    return { family: this.cluster.family, base: this.cluster.base + (BigInt(index) << shift), prefix: this.nodeMaskSize };
  }

  /** The first and last subnet index `cidr` covers; throws when it lies outside the cluster range. */
  private indices(cidr: Cidr): [number, number] {
    const bits = familyBits(this.cluster.family);
    const clusterSize = 1n << BigInt(bits - this.cluster.prefix);
    const start = cidr.base;
    const end = cidr.base + (1n << BigInt(bits - cidr.prefix)) - 1n;
    if (cidr.family !== this.cluster.family || end < this.cluster.base || start >= this.cluster.base + clusterSize) {
      throw new Error(`cidr ${formatCidr(cidr)} is out the range of cluster cidr ${formatCidr(this.cluster)}`);
    }
    const shift = BigInt(bits - this.nodeMaskSize);
    const clamp = (value: bigint): bigint => (value < this.cluster.base ? this.cluster.base : value >= this.cluster.base + clusterSize ? this.cluster.base + clusterSize - 1n : value);
    return [Number((clamp(start) - this.cluster.base) >> shift), Number((clamp(end) - this.cluster.base) >> shift)];
  }
}
