import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostLocalIpam, IpExhaustedError } from './ipam.js';
import { formatIpv4, parseIpv4, parseIpv4Cidr } from './ipv4.js';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'k8ts-ipam-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('parseIpv4Cidr', () => {
  it('gives the gateway the first address and pods the rest up to the broadcast', () => {
    const cidr = parseIpv4Cidr('10.244.1.0/24');
    expect([cidr.gateway, cidr.firstPod, cidr.lastPod].map(formatIpv4)).toEqual(['10.244.1.1', '10.244.1.2', '10.244.1.254']);
    expect(cidr.prefixLength).toBe(24);
    expect(formatIpv4(parseIpv4Cidr('10.0.0.0/8').lastPod)).toBe('10.255.255.254');
  });

  it('rejects what is not an IPv4 network address', () => {
    expect(() => parseIpv4Cidr('10.244.1.5/24')).toThrow('host bits are set');
    expect(() => parseIpv4Cidr('fd00::/64')).toThrow('only IPv4 CIDRs are supported');
    expect(() => parseIpv4Cidr('10.244.1.0')).toThrow('only IPv4 CIDRs are supported');
    expect(() => parseIpv4Cidr('10.244.1.0/33')).toThrow('only IPv4 CIDRs are supported');
    expect(() => parseIpv4Cidr('10.244.1.0/31')).toThrow('too small');
    expect(parseIpv4('256.1.1.1')).toBeUndefined();
  });
});

describe('HostLocalIpam', () => {
  const cidr = parseIpv4Cidr('10.244.7.0/29'); // pods: .2 … .6

  it('hands an owner the address it holds, and each address to one owner only, across instances', async () => {
    const dir = await freshDir();
    const first = new HostLocalIpam(dir);
    const second = new HostLocalIpam(dir); // another agent instance over the same dir, concurrently
    const owners = ['a', 'b', 'c', 'd', 'e'];
    const ips = await Promise.all(owners.map((owner, index) => (index % 2 === 0 ? first : second).allocate(owner, cidr)));
    expect(new Set(ips).size).toBe(5);
    expect([...ips].sort()).toEqual(['10.244.7.2', '10.244.7.3', '10.244.7.4', '10.244.7.5', '10.244.7.6']);
    // A restarted agent (a new instance) finds each owner's address on disk.
    expect(await new HostLocalIpam(dir).allocate('c', cidr)).toBe(ips[2]);
    expect(await readFile(join(dir, ips[0]!), 'utf8')).toBe('a');

    const exhausted = first.allocate('f', cidr);
    await expect(exhausted).rejects.toBeInstanceOf(IpExhaustedError);
    await expect(exhausted).rejects.toThrow(
      'failed to allocate for range 0: no IP addresses available in range set: 10.244.7.1-10.244.7.6',
    );

    const owner = ips.indexOf('10.244.7.4') % 2 === 0 ? first : second;
    const holder = owners[ips.indexOf('10.244.7.4')]!;
    await owner.release(holder);
    expect(await new HostLocalIpam(dir).lookup(holder)).toBeUndefined();
    // The other instance learns of the freed address when it reads the folder again.
    const other = owner === first ? second : first;
    await other.allocations();
    expect(await other.allocate('f', cidr)).toBe('10.244.7.4');
  });

  it('goes round the range from the last address reserved, so a freed address is not reused at once', async () => {
    const dir = await freshDir();
    const ipam = new HostLocalIpam(dir);
    expect(await ipam.allocate('a', cidr)).toBe('10.244.7.2');
    expect(await ipam.allocate('b', cidr)).toBe('10.244.7.3');
    await ipam.release('a');
    expect(await ipam.allocate('c', cidr)).toBe('10.244.7.4');
    // A claim whose owner was never written (a crash) stays taken.
    await writeFile(join(dir, '10.244.7.5'), '');
    expect(await ipam.allocate('d', cidr)).toBe('10.244.7.6');
    expect(await ipam.allocate('e', cidr)).toBe('10.244.7.2');
  });

  it('moves an owner to the new range when the podCIDR changed', async () => {
    const dir = await freshDir();
    const ipam = new HostLocalIpam(dir);
    expect(await ipam.allocate('a', cidr)).toBe('10.244.7.2');
    expect(await ipam.allocate('a', parseIpv4Cidr('10.244.8.0/24'))).toBe('10.244.8.2');
    expect([...(await ipam.allocations()).keys()]).toEqual(['10.244.8.2']);
  });
});
