/**
 * Which node holds which CIDRs (upstream's range allocator, its memory part): one CidrSet per
 * cluster CIDR and, per node name, the CIDRs it holds or was given. Pure: the controller reads
 * nodes and writes them; this decides.
 */
import { formatCidr, parseCidr, type Cidr } from './cidr.js';
import { CidrSet } from './cidr_set.js';

export class RangeAllocator {
  /** Node name → its CIDRs (one per cluster CIDR), whether on the node already or reserved for it. */
  private readonly held = new Map<string, Cidr[]>();

  constructor(private readonly sets: readonly CidrSet[]) {}

  /**
   * Records the podCIDRs a node carries as taken (none: nothing changes). Throws (nothing taken) when one is garbage, lies
   * outside the cluster CIDRs, or another node holds it; a CIDR reserved for this node before and
   * not the one it got is released.
   */
  occupy(nodeName: string, podCidrs: readonly string[]): void {
    if (podCidrs.length === 0) return; // nothing on the node yet: a reservation for it stays
    const cidrs = podCidrs.map((text, index) => {
      const cidr = parseCidr(text);
      if (cidr === undefined) throw new Error(`failed to parse node ${nodeName}, CIDR ${text}`);
      const set = this.sets[index];
      if (set === undefined) throw new Error(`node ${nodeName} has an allocated cidr ${text} at index ${index} that does not exist in cluster cidrs configuration`);
      const holder = this.holderOf(cidr, index);
      if (holder !== undefined && holder !== nodeName) throw new Error(`node ${nodeName} has CIDR ${text}, which node ${holder} holds`);
      return cidr;
    });
    const previous = this.held.get(nodeName);
    if (previous !== undefined && previous.map(formatCidr).join(',') === cidrs.map(formatCidr).join(',')) return;
    this.release(nodeName);
    cidrs.forEach((cidr, index) => this.sets[index]?.occupy(cidr));
    this.held.set(nodeName, cidrs);
  }

  /** The CIDRs for a node without any: those reserved for it already, or the next free ones. Throws CidrRangeFullError (nothing kept) when a range is full. */
  reserve(nodeName: string): Cidr[] {
    const held = this.held.get(nodeName);
    if (held !== undefined) return held;
    const cidrs: Cidr[] = [];
    try {
      for (const set of this.sets) cidrs.push(set.allocateNext());
    } catch (error) {
      cidrs.forEach((cidr, index) => this.sets[index]?.release(cidr));
      throw error;
    }
    this.held.set(nodeName, cidrs);
    return cidrs;
  }

  /** Frees what the node held; true when it held something. */
  release(nodeName: string): boolean {
    const held = this.held.get(nodeName);
    if (held === undefined) return false;
    held.forEach((cidr, index) => this.sets[index]?.release(cidr));
    this.held.delete(nodeName);
    return true;
  }

  heldBy(nodeName: string): readonly Cidr[] | undefined {
    return this.held.get(nodeName);
  }

  nodeNames(): string[] {
    return [...this.held.keys()];
  }

  private holderOf(cidr: Cidr, index: number): string | undefined {
    const text = formatCidr(cidr);
    for (const [name, cidrs] of this.held) {
      const mine = cidrs[index];
      if (mine !== undefined && formatCidr(mine) === text) return name;
    }
    return undefined;
  }
}
