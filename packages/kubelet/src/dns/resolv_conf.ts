import type { Pod } from 'kubernetes-types/core/v1.js';
import type { DnsConfig } from '../runtime/runtime.js';

/** The kubelet's limits (k8s.io/kubernetes/pkg/apis/core/validation). */
export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
/** A search domain longer than a DNS-1123 subdomain is dropped (glibc aborts on > 255). */
const MAX_SEARCH_DOMAIN_CHARS = 253;

/** A resolv.conf's content; what the kubelet hands the runtime as the sandbox's DNS config (CRI's DNSConfig). */
export interface HostResolvConf {
  readonly nameservers: string[];
  readonly searches: string[];
  readonly options: string[];
}

export interface PodDnsOptions {
  /** The kubelet's --cluster-dns. */
  readonly clusterDNS: readonly string[];
  /** The kubelet's --cluster-domain, e.g. `cluster.local` ('' for none). */
  readonly clusterDomain: string;
  /** The text of the file named by the kubelet's --resolv-conf ('' when the flag is empty). */
  readonly hostResolvConf: string;
}

/**
 * Reads resolv.conf as the kubelet does: every `nameserver`, the last `search` line (trailing
 * dots dropped), `options` accumulated with a later option replacing an earlier one of its name.
 * Comments start with `#` or `;`.
 */
export function parseResolvConf(text: string): HostResolvConf {
  const nameservers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/[#;].*$/, '').trim();
    const fields = line.split(/\s+/).filter((field) => field !== '');
    const [keyword, ...rest] = fields;
    if (keyword === 'nameserver' && rest[0] !== undefined) nameservers.push(rest[0]);
    else if (keyword === 'search') searches = rest.map((domain) => (domain.length > 1 && domain.endsWith('.') ? domain.slice(0, -1) : domain));
    else if (keyword === 'options') options = mergeOptions(options, rest.map(splitOption));
  }
  return { nameservers, searches, options };
}

type DnsType = 'cluster' | 'host' | 'none';

/**
 * The pod's resolv.conf as the kubelet computes it (pkg/kubelet/network/dns), for the runtime to write:
 * - ClusterFirst (the default): the cluster DNS servers, `search <ns>.svc.<domain> svc.<domain>
 *   <domain>` then the host's searches, `options ndots:5`. A hostNetwork pod with ClusterFirst,
 *   and any ClusterFirst pod when no cluster DNS is configured, gets the host's instead (Default).
 * - ClusterFirstWithHostNet: as ClusterFirst, hostNetwork or not.
 * - Default: the host's resolv.conf (no --resolv-conf: `nameserver 127.0.0.1`, `search .`).
 * - None: nothing but the pod's dnsConfig.
 * Then `dnsConfig` is appended (nameservers and searches without duplicates; options merged, the
 * pod's winning by name), and the limits applied: 3 nameservers, 32 search domains, 2048 chars.
 */
export function podResolvConf(pod: Pod, options: PodDnsOptions): HostResolvConf {
  const host = options.hostResolvConf === '' ? undefined : parseResolvConf(options.hostResolvConf);
  let config: HostResolvConf;
  switch (podDnsType(pod, options.clusterDNS)) {
    case 'none':
      config = { nameservers: [], searches: [], options: [] };
      break;
    case 'host':
      config = host ?? { nameservers: ['127.0.0.1'], searches: ['.'], options: [] };
      break;
    case 'cluster':
      config = {
        nameservers: [...options.clusterDNS],
        searches: clusterSearches(host?.searches ?? [], pod.metadata?.namespace ?? 'default', options.clusterDomain),
        options: ['ndots:5'],
      };
      break;
  }
  const dnsConfig = pod.spec?.dnsConfig;
  if (dnsConfig) {
    config = {
      nameservers: unique([...config.nameservers, ...(dnsConfig.nameservers ?? [])]),
      searches: unique([...config.searches, ...(dnsConfig.searches ?? [])]),
      options: mergeOptions(config.options, (dnsConfig.options ?? []).map((option) => [option.name ?? '', option.value ?? ''] as const)),
    };
  }
  return { nameservers: config.nameservers.slice(0, MAX_DNS_NAMESERVERS), searches: fitSearches(config.searches), options: config.options };
}

function podDnsType(pod: Pod, clusterDNS: readonly string[]): DnsType {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  let type: DnsType;
  if (policy === 'None') type = 'none';
  else if (policy === 'ClusterFirstWithHostNet') type = 'cluster';
  else if (policy === 'ClusterFirst') type = pod.spec?.hostNetwork === true ? 'host' : 'cluster';
  else type = 'host';
  // The kubelet falls back to Default when it was given no cluster DNS.
  return type === 'cluster' && clusterDNS.length === 0 ? 'host' : type;
}

function clusterSearches(hostSearches: readonly string[], namespace: string, clusterDomain: string): string[] {
  if (clusterDomain === '') return [...hostSearches];
  return unique([`${namespace}.svc.${clusterDomain}`, `svc.${clusterDomain}`, clusterDomain, ...hostSearches]);
}

/** The kubelet's formDNSSearchFitsLimits: at most 32 domains, none over 253 chars, the line ≤ 2048 chars (dropping from the end). */
function fitSearches(searches: readonly string[]): string[] {
  const fitting = searches.slice(0, MAX_DNS_SEARCH_PATHS).filter((domain) => domain.length <= MAX_SEARCH_DOMAIN_CHARS);
  while (fitting.join(' ').length > MAX_DNS_SEARCH_LIST_CHARS) fitting.pop();
  return fitting;
}

function splitOption(option: string): readonly [string, string] {
  const colon = option.indexOf(':');
  return colon < 0 ? [option, ''] : [option.slice(0, colon), option.slice(colon + 1)];
}

/** Options by name, later ones replacing earlier ones in place; `name` or `name:value`. */
function mergeOptions(existing: readonly string[], added: readonly (readonly [string, string])[]): string[] {
  const merged = new Map<string, string>(existing.map(splitOption));
  for (const [name, value] of added) merged.set(name, value);
  return [...merged].map(([name, value]) => (value === '' ? name : `${name}:${value}`));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** The file a runtime writes for the sandbox: nameserver lines, then search, then options. */
export function formatResolvConf(config: DnsConfig): string {
  const lines = config.nameservers.map((server) => `nameserver ${server}`);
  if (config.searches.length > 0) lines.push(`search ${config.searches.join(' ')}`);
  if (config.options.length > 0) lines.push(`options ${config.options.join(' ')}`);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
