/**
 * IPv4 arithmetic for a node's podCIDR: the bridge (gateway) takes the first address, pods the rest,
 * as the CNI bridge plugin with host-local IPAM does.
 */

export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit number. */
  readonly network: number;
  readonly prefixLength: number;
  /** The first usable address: the gateway, held by the bridge. */
  readonly gateway: number;
  /** The range pods draw from: gateway + 1 … broadcast − 1. */
  readonly firstPod: number;
  readonly lastPod: number;
}

export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Parses `a.b.c.d/n` (host bits must be zero, as in Node.spec.podCIDR); throws on anything else. */
export function parseIpv4Cidr(text: string): Ipv4Cidr {
  const [address, prefix, extra] = text.split('/');
  const base = address === undefined ? undefined : parseIpv4(address);
  const prefixLength = prefix !== undefined && /^\d{1,2}$/.test(prefix) ? Number(prefix) : NaN;
  if (base === undefined || extra !== undefined || !(prefixLength >= 0 && prefixLength <= 32)) {
    throw new Error(`invalid podCIDR ${JSON.stringify(text)}: only IPv4 CIDRs are supported`);
  }
  // 2 ** (32 - n) keeps this exact for /0 where 32-bit shifts wrap.
  const size = 2 ** (32 - prefixLength);
  if (base % size !== 0) throw new Error(`invalid podCIDR ${JSON.stringify(text)}: host bits are set`);
  if (size < 4) throw new Error(`podCIDR ${text} is too small: it needs room for a gateway and a pod`);
  return { network: base, prefixLength, gateway: base + 1, firstPod: base + 2, lastPod: base + size - 2 };
}
