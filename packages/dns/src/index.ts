/**
 * @k8ts/dns: cluster DNS, as CoreDNS's kubernetes plugin answers it.
 * - `ClusterDnsServer`: authoritative for the cluster zone over UDP and TCP, forwarding other names.
 * - `DnsRecordSource` / `informerRecordSource`: the zone's records from Service, EndpointSlice
 *   (and optionally Pod, Namespace) listers.
 */
export { ClusterDnsServer, type ClusterDnsServerOptions, type DnsServerCounters } from './server.js';
export { NO_DATA, NO_SUCH_NAME, type DnsLookupResult, type DnsRecordSource } from './record_source.js';
export {
  informerRecordSource,
  type EndpointSliceObject,
  type InformerRecordOptions,
  type NamespaceObject,
  type PodObject,
  type RecordListers,
  type ServiceObject,
} from './informer_records.js';
export { answerInZone, DNS_SCHEMA_VERSION, type ZoneAnswer, type ZoneSettings } from './zone_answer.js';
export { forwardQuery, parseUpstream, type Upstream } from './forwarder.js';
