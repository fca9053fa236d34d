import type { Answer, RecordType } from 'dns-packet';

/**
 * What the cluster DNS server asks about names inside its zone.
 *
 * Contract:
 * - `lookup` is synchronous and reads only caches: the server answers from it on every query.
 * - `name` is the question's name as asked (any case, no trailing dot) and lies inside `zone`
 *   below its apex (the server answers the apex, SOA/NS, and `dns-version` itself). Matching is
 *   case-insensitive; the records it returns are owned by names in the asker's spelling where the
 *   owner is the question's name.
 * - `exists: false` means the name does not exist (NXDOMAIN). `exists: true` with no answers of
 *   the asked type means NODATA. An alias (CNAME) is returned whatever the type asked.
 * - Records carry no TTL: the server sets its own.
 */
export interface DnsRecordSource {
  lookup(name: string, type: RecordType, zone: string): DnsLookupResult;
}

export interface DnsLookupResult {
  readonly exists: boolean;
  readonly answers: readonly Answer[];
  /** Glue for SRV targets (their A/AAAA records), as CoreDNS adds. */
  readonly additionals: readonly Answer[];
}

export const NO_SUCH_NAME: DnsLookupResult = { exists: false, answers: [], additionals: [] };
export const NO_DATA: DnsLookupResult = { exists: true, answers: [], additionals: [] };
