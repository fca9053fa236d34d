import type { Answer, RecordType, SoaAnswer } from 'dns-packet';
import type { DnsRecordSource } from './record_source.js';
import { normalizeName } from './query_name.js';

/** The version of the Kubernetes DNS schema served, at `dns-version.<zone>` TXT (the spec's 2.2). */
export const DNS_SCHEMA_VERSION = '1.1.0';

export interface ZoneAnswer {
  readonly rcode: 'NOERROR' | 'NXDOMAIN';
  readonly answers: Answer[];
  readonly authorities: Answer[];
  readonly additionals: Answer[];
}

export interface ZoneSettings {
  /** Normalized zone, e.g. `cluster.local`. */
  readonly zone: string;
  readonly ttl: number;
  /** The SOA serial (CoreDNS: when the caches last changed; here: when the server started). */
  readonly serial: number;
}

/**
 * The authoritative answer for a question inside the zone: the apex's SOA and NS, the schema
 * version, and everything else from the record source; NXDOMAIN and NODATA carry the zone's SOA
 * in the authority section (negative caching, RFC 2308), as CoreDNS does. Every record gets `ttl`.
 */
export function answerInZone(name: string, type: RecordType, source: DnsRecordSource, settings: ZoneSettings): ZoneAnswer {
  const normalized = normalizeName(name);
  const soa = soaRecord(settings);
  const withTtl = (records: readonly Answer[]): Answer[] => records.map((record) => ({ ...record, ttl: settings.ttl, class: 'IN' }) as Answer);
  if (normalized === settings.zone) {
    if (type === 'SOA') return { rcode: 'NOERROR', answers: [{ ...soa, name }], authorities: [], additionals: [] };
    if (type === 'NS') return { rcode: 'NOERROR', answers: withTtl([{ name, type: 'NS', data: `ns.dns.${settings.zone}` }]), authorities: [], additionals: [] };
    return { rcode: 'NOERROR', answers: [], authorities: [soa], additionals: [] };
  }
  if (normalized === `dns-version.${settings.zone}`) {
    const answers = type === 'TXT' ? withTtl([{ name, type: 'TXT', data: DNS_SCHEMA_VERSION }]) : [];
    return { rcode: 'NOERROR', answers, authorities: answers.length === 0 ? [soa] : [], additionals: [] };
  }
  const result = source.lookup(name, type, settings.zone);
  if (!result.exists) return { rcode: 'NXDOMAIN', answers: [], authorities: [soa], additionals: [] };
  const answers = withTtl(result.answers);
  return { rcode: 'NOERROR', answers, authorities: answers.length === 0 ? [soa] : [], additionals: withTtl(result.additionals) };
}

function soaRecord(settings: ZoneSettings): SoaAnswer {
  return {
    name: settings.zone,
    type: 'SOA',
    class: 'IN',
    ttl: settings.ttl,
    data: {
      mname: `ns.dns.${settings.zone}`,
      rname: `hostmaster.${settings.zone}`,
      serial: settings.serial,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: settings.ttl,
    },
  };
}
