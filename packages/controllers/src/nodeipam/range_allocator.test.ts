import { describe, expect, it } from 'vitest';
import { formatCidr } from './cidr.js';
import { CidrRangeFullError } from './cidr_set.js';
import { clusterCidrSets } from './cluster_cidrs.js';
import { RangeAllocator } from './range_allocator.js';

const texts = (cidrs: readonly { family: 4 | 6; base: bigint; prefix: number }[] | undefined): string[] => (cidrs ?? []).map(formatCidr);

describe('RangeAllocator', () => {
  it('never gives a new node a CIDR an existing node holds (a restarted manager)', () => {
    const allocator = new RangeAllocator(clusterCidrSets('10.244.0.0/16', 24));
    allocator.occupy('old-a', ['10.244.0.0/24']);
    allocator.occupy('old-b', ['10.244.1.0/24']);
    expect(texts(allocator.reserve('new'))).toEqual(['10.244.2.0/24']);
  });

  it('gives a node the same reservation until it carries it, and frees it when the node goes', () => {
    const allocator = new RangeAllocator(clusterCidrSets('10.244.0.0/23', 24));
    allocator.occupy('n1', []); // seen without CIDRs: nothing held
    expect(allocator.heldBy('n1')).toBeUndefined();
    const first = texts(allocator.reserve('n1'));
    allocator.occupy('n1', []);
    expect(texts(allocator.reserve('n1'))).toEqual(first);
    allocator.occupy('n1', first);
    expect(texts(allocator.reserve('n2'))).toEqual(['10.244.1.0/24']);
    expect(() => allocator.reserve('n3')).toThrow(CidrRangeFullError);
    expect(allocator.release('n1')).toBe(true);
    expect(texts(allocator.reserve('n3'))).toEqual(first);
  });

  it('releases a reservation when the node turns out to carry other CIDRs', () => {
    const allocator = new RangeAllocator(clusterCidrSets('10.244.0.0/23', 24));
    allocator.reserve('n1'); // 10.244.0.0/24, but someone else gave n1 10.244.1.0/24
    allocator.occupy('n1', ['10.244.1.0/24']);
    expect(texts(allocator.reserve('n2'))).toEqual(['10.244.0.0/24']);
  });

  it('refuses a CIDR another node holds, garbage, and CIDRs outside the range', () => {
    const allocator = new RangeAllocator(clusterCidrSets('10.244.0.0/16', 24));
    allocator.occupy('n1', ['10.244.5.0/24']);
    expect(() => allocator.occupy('n2', ['10.244.5.0/24'])).toThrow('node n2 has CIDR 10.244.5.0/24, which node n1 holds');
    expect(() => allocator.occupy('n2', ['nonsense'])).toThrow(/failed to parse node n2/);
    expect(() => allocator.occupy('n2', ['10.9.0.0/24'])).toThrow(/out the range/);
    expect(() => allocator.occupy('n2', ['10.244.6.0/24', 'fd00::/64'])).toThrow(/does not exist in cluster cidrs configuration/);
  });

  it('gives dual-stack nodes one CIDR of each family, keeping nothing when one range is full', () => {
    const sets = clusterCidrSets('10.244.0.0/23,fd00:10:244::/64', 24);
    const allocator = new RangeAllocator(sets);
    expect(texts(allocator.reserve('n1'))).toEqual(['10.244.0.0/24', 'fd00:10:244::/64']);
    expect(() => allocator.reserve('n2')).toThrow(CidrRangeFullError); // IPv4 had room, IPv6 not
    expect(allocator.heldBy('n2')).toBeUndefined();
    expect(sets[0]?.free()).toBe(1);
  });
});
