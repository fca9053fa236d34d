import { describe, expect, it } from 'vitest';
import { formatCidr, parseCidr } from './cidr.js';
import { CidrRangeFullError, CidrSet } from './cidr_set.js';
import { clusterCidrSets } from './cluster_cidrs.js';

const cidr = (text: string) => {
  const parsed = parseCidr(text);
  if (parsed === undefined) throw new Error(`bad test CIDR ${text}`);
  return parsed;
};

describe('parseCidr / formatCidr', () => {
  it.each([
    ['10.244.0.0/16', '10.244.0.0/16'],
    ['10.244.7.9/16', '10.244.0.0/16'],
    ['fd00:10:244::/56', 'fd00:10:244::/56'],
    ['FD00:0:0:0:0:0:0:1/64', 'fd00::/64'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
    ['::/0', '::/0'],
  ])('%s is %s', (text, printed) => {
    expect(formatCidr(cidr(text))).toBe(printed);
  });

  it.each(['10.244.0.0', '10.244.0.256/16', '10.244.0.0/33', 'fd00::1::/64', 'fd00:/64', '1:2:3:4:5:6:7:8:9/64', 'x/8'])('refuses %s', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe('CidrSet', () => {
  it('hands out /24s of a /16 in order, round-robin past released ones, until it is full', () => {
    const set = new CidrSet(cidr('10.244.0.0/22'), 24);
    const first = [set.allocateNext(), set.allocateNext()].map(formatCidr);
    expect(first).toEqual(['10.244.0.0/24', '10.244.1.0/24']);
    set.release(cidr('10.244.0.0/24'));
    expect(formatCidr(set.allocateNext())).toBe('10.244.2.0/24');
    expect(formatCidr(set.allocateNext())).toBe('10.244.3.0/24');
    expect(formatCidr(set.allocateNext())).toBe('10.244.0.0/24'); // wraps to the released one
    expect(() => set.allocateNext()).toThrow(CidrRangeFullError);
    expect(() => set.allocateNext()).toThrow('CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range');
  });

  it('never hands out a CIDR found on a node', () => {
    const set = new CidrSet(cidr('10.244.0.0/22'), 24);
    set.occupy(cidr('10.244.0.0/24'));
    set.occupy(cidr('10.244.2.0/23')); // a bigger range takes every subnet it covers
    expect(set.free()).toBe(1);
    expect(formatCidr(set.allocateNext())).toBe('10.244.1.0/24');
    expect(() => set.occupy(cidr('10.245.0.0/24'))).toThrow('cidr 10.245.0.0/24 is out the range of cluster cidr 10.244.0.0/22');
  });

  it('allocates IPv6 node CIDRs', () => {
    const set = new CidrSet(cidr('fd00:10:244::/56'), 64);
    expect([set.allocateNext(), set.allocateNext()].map(formatCidr)).toEqual(['fd00:10:244::/64', 'fd00:10:244:1::/64']);
  });

  it('refuses node masks outside the cluster prefix or too many subnets', () => {
    expect(() => new CidrSet(cidr('10.244.0.0/16'), 8)).toThrow(/invalid node CIDR mask size 8/);
    expect(() => new CidrSet(cidr('10.0.0.0/8'), 25)).toThrow(/the node CIDR size is too big/);
  });
});

describe('clusterCidrSets', () => {
  it('reads single and dual stack', () => {
    expect(clusterCidrSets('10.244.0.0/16', 24).map((set) => [formatCidr(set.cluster), set.nodeMaskSize])).toEqual([['10.244.0.0/16', 24]]);
    expect(clusterCidrSets('10.244.0.0/16, fd00:10:244::/56', 24).map((set) => [formatCidr(set.cluster), set.nodeMaskSize])).toEqual([
      ['10.244.0.0/16', 24],
      ['fd00:10:244::/56', 64],
    ]);
  });

  it('refuses what upstream refuses', () => {
    expect(() => clusterCidrSets('', 24)).toThrow(/required/);
    expect(() => clusterCidrSets('10.0.0.0/16,10.1.0.0/16', 24)).toThrow(/one IPv4 and one IPv6/);
    expect(() => clusterCidrSets('10.0.0.0/16,fd00::/48,10.1.0.0/16', 24)).toThrow(/at most two/);
    expect(() => clusterCidrSets('banana', 24)).toThrow(/banana is not a valid CIDR/);
  });
});
