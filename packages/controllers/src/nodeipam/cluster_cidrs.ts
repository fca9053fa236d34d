/**
 * --cluster-cidr and --node-cidr-mask-size read as kube-controller-manager reads them for the range
 * allocator: one CIDR, or two of different families for dual stack; IPv4 node CIDRs take
 * --node-cidr-mask-size, IPv6 ones /64 (upstream's --node-cidr-mask-size-ipv6 default).
 */
import { parseCidr, type Cidr } from './cidr.js';
import { CidrSet } from './cidr_set.js';

export const IPV6_NODE_MASK_SIZE = 64;

export function clusterCidrSets(clusterCidr: string, nodeCidrMaskSize: number): CidrSet[] {
  const texts = clusterCidr.split(',').map((text) => text.trim()).filter((text) => text !== '');
  if (texts.length === 0) throw new Error('--cluster-cidr is required when --allocate-node-cidrs is set');
  if (texts.length > 2) throw new Error(`invalid --cluster-cidr ${clusterCidr}: at most two CIDRs (one per IP family)`);
  const cidrs: Cidr[] = texts.map((text) => {
    const cidr = parseCidr(text);
    if (cidr === undefined) throw new Error(`invalid --cluster-cidr ${clusterCidr}: ${text} is not a valid CIDR`);
    return cidr;
  });
  if (cidrs.length === 2 && cidrs[0]?.family === cidrs[1]?.family) throw new Error(`invalid --cluster-cidr ${clusterCidr}: dual stack needs one IPv4 and one IPv6 CIDR`);
  return cidrs.map((cidr) => new CidrSet(cidr, cidr.family === 4 ? nodeCidrMaskSize : IPV6_NODE_MASK_SIZE));
}
