import { createHash } from 'node:crypto';

/** A store member as etcd's Cluster API describes it. */
export interface Member {
  readonly id: number;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

/** One `name=url` pair of --initial-cluster; a name may appear with several peer URLs. */
export interface InitialMember {
  readonly name: string;
  readonly peerURLs: readonly string[];
}

/** Parses etcd's `--initial-cluster` value: `n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380`. */
export function parseInitialCluster(text: string): InitialMember[] {
  const byName = new Map<string, string[]>();
  for (const pair of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new Error(`--initial-cluster: "${pair}" is not name=url`);
    const name = pair.slice(0, at);
    const url = pair.slice(at + 1);
    parseUrl(url, '--initial-cluster');
    byName.set(name, [...(byName.get(name) ?? []), url]);
  }
  if (byName.size === 0) throw new Error('--initial-cluster is empty');
  return [...byName].map(([name, peerURLs]) => ({ name, peerURLs }));
}

/** Comma-separated URLs, as etcd's --listen-*-urls and --advertise-*-urls take them. */
export function parseUrlList(text: string, flag: string): string[] {
  const urls = text.split(',').map((part) => part.trim()).filter(Boolean);
  if (urls.length === 0) throw new Error(`${flag} is empty`);
  for (const url of urls) parseUrl(url, flag);
  return urls;
}

export function parseUrl(text: string, flag: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${flag}: "${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${flag}: "${text}" must be http or https`);
  if (url.port === '') throw new Error(`${flag}: "${text}" has no port`);
  return url;
}

/**
 * A member's id, derived as etcd derives it from its peer URLs and the cluster token, so that every
 * member computes the same ids from the same --initial-cluster. etcd's ids are 64-bit and print as
 * 16 hex digits; ours are too, yet stay exact in a JS number: 48 hashed bits (the top one set)
 * shifted left by 16, a multiple of 2^16 below 2^64, which a double holds exactly.
 */
export function memberIdOf(peerURLs: readonly string[], clusterToken: string): number {
  return idFromDigest(createHash('sha256').update([...peerURLs].sort().join(',')).update('\0').update(clusterToken).digest());
}

export function clusterIdOf(memberIds: readonly number[], clusterToken: string): number {
  return idFromDigest(createHash('sha256').update([...memberIds].sort((a, b) => a - b).join(',')).update('\0').update(clusterToken).digest());
}

function idFromDigest(digest: Buffer): number {
  const bits = BigInt(digest.readUIntBE(0, 6)) | (1n << 47n);
  return Number(bits << 16n);
}

/** An id as the exact decimal string a uint64 field carries (String() of a large double is not exact). */
export function idToWire(id: number): string {
  return BigInt(id).toString();
}

/** A uint64 id from the wire (decimal string or number) as our exact double. */
export function idFromWire(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  return Number(BigInt(String(value)));
}

/** etcd prints ids as lowercase hex. */
export function formatId(id: number): string {
  return BigInt(id).toString(16);
}
