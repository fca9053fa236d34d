import { Indexer, Lister } from '@k8ts/client';
import { describe, expect, test } from 'vitest';
import { informerRecordSource, type EndpointSliceObject, type NamespaceObject, type ServiceObject } from './informer_records.js';
import { answerInZone } from './zone_answer.js';

const ZONE = 'cluster.local';

function service(namespace: string, name: string, spec: NonNullable<ServiceObject['spec']>): ServiceObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec };
}

function slice(namespace: string, service: string, name: string, body: Omit<EndpointSliceObject, 'metadata' | 'addressType'> & { addressType?: string }): EndpointSliceObject {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4', metadata: { namespace, name, labels: { 'kubernetes.io/service-name': service } }, ...body };
}

/** Real Indexer/Lister caches, filled as an informer would. */
function source(options: { podMode?: 'insecure' | 'verified' } = {}) {
  const services = new Indexer<ServiceObject>();
  const slices = new Indexer<EndpointSliceObject>();
  const namespaces = new Indexer<NamespaceObject>();
  for (const name of ['default', 'web', 'empty']) namespaces.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  services.upsert(service('web', 'api', { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }));
  services.upsert(service('web', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }));
  services.upsert(service('web', 'ext', { type: 'ExternalName', externalName: 'example.org' }));
  services.upsert(service('web', 'lonely', { clusterIP: 'None' }));
  slices.upsert(
    slice('web', 'db', 'db-abc', {
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: true } },
        { addresses: ['10.244.2.6'], conditions: { ready: true } },
        { addresses: ['10.244.3.7'], hostname: 'db-2', conditions: { ready: false } },
      ],
    }),
  );
  slices.upsert(slice('web', 'api', 'api-abc', { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: ['10.244.1.9'], conditions: { ready: true } }] }));
  const records = informerRecordSource({ services: new Lister(services), endpointSlices: new Lister(slices), namespaces: new Lister(namespaces) }, options);
  return { records, services, slices };
}

function ask(name: string, type: 'A' | 'AAAA' | 'SRV' | 'TXT' | 'CNAME' | 'SOA' | 'NS' | 'MX', options: { podMode?: 'insecure' | 'verified' } = {}) {
  return answerInZone(name, type, source(options).records, { zone: ZONE, ttl: 5, serial: 7 });
}

const data = (answer: ReturnType<typeof ask>): unknown[] => answer.answers.map((record) => ('data' in record ? record.data : undefined));

describe('informerRecordSource, as CoreDNS kubernetes plugin', () => {
  test('a ClusterIP Service: A is its cluster IP, AAAA is NODATA with the SOA, names are case-insensitive', () => {
    const a = ask('api.web.svc.cluster.local', 'A');
    expect([a.rcode, data(a)]).toEqual(['NOERROR', ['10.96.0.20']]);
    expect(a.answers[0]).toMatchObject({ name: 'api.web.svc.cluster.local', ttl: 5 });
    const upper = ask('API.Web.SVC.Cluster.Local', 'A');
    expect(data(upper)).toEqual(['10.96.0.20']);
    expect(upper.answers[0]?.name).toBe('API.Web.SVC.Cluster.Local');
    const aaaa = ask('api.web.svc.cluster.local', 'AAAA');
    expect([aaaa.rcode, aaaa.answers, aaaa.authorities.map((r) => r.type)]).toEqual(['NOERROR', [], ['SOA']]);
    expect(ask('api.web.svc.cluster.local', 'MX').answers).toEqual([]);
  });

  test('SRV for a named port points at the Service with its A as glue; the protocol must match', () => {
    const srv = ask('_http._tcp.api.web.svc.cluster.local', 'SRV');
    expect(data(srv)).toEqual([{ priority: 0, weight: 100, port: 80, target: 'api.web.svc.cluster.local' }]);
    expect(srv.additionals.map((r) => [r.name, r.type, 'data' in r ? r.data : undefined])).toEqual([['api.web.svc.cluster.local', 'A', '10.96.0.20']]);
    expect(data(ask('_dns._udp.api.web.svc.cluster.local', 'SRV'))).toEqual([{ priority: 0, weight: 100, port: 53, target: 'api.web.svc.cluster.local' }]);
    expect(ask('_http._udp.api.web.svc.cluster.local', 'SRV').rcode).toBe('NXDOMAIN');
    expect(ask('_nope._tcp.api.web.svc.cluster.local', 'SRV').rcode).toBe('NXDOMAIN');
    // SRV on the Service's own name: every port.
    expect(ask('api.web.svc.cluster.local', 'SRV').answers).toHaveLength(2);
  });

  test('a headless Service: A are its ready endpoints, SRV one per endpoint to its hostname or dashed IP', () => {
    const a = ask('db.web.svc.cluster.local', 'A');
    expect((data(a) as string[]).sort()).toEqual(['10.244.1.5', '10.244.2.6']);
    const srv = ask('_pg._tcp.db.web.svc.cluster.local', 'SRV');
    expect(srv.answers.map((r) => ('data' in r ? r.data : undefined))).toEqual([
      { priority: 0, weight: 50, port: 5432, target: 'db-0.db.web.svc.cluster.local' },
      { priority: 0, weight: 50, port: 5432, target: '10-244-2-6.db.web.svc.cluster.local' },
    ]);
    expect(srv.additionals.map((r) => [r.name, 'data' in r ? r.data : undefined])).toEqual([
      ['db-0.db.web.svc.cluster.local', '10.244.1.5'],
      ['10-244-2-6.db.web.svc.cluster.local', '10.244.2.6'],
    ]);
  });

  test('<hostname>.<subdomain>.<ns>.svc: the endpoint with that hostname (or dashed IP); a not-ready one does not exist', () => {
    expect(data(ask('db-0.db.web.svc.cluster.local', 'A'))).toEqual(['10.244.1.5']);
    expect(data(ask('10-244-2-6.db.web.svc.cluster.local', 'A'))).toEqual(['10.244.2.6']);
    expect(ask('db-2.db.web.svc.cluster.local', 'A').rcode).toBe('NXDOMAIN');
    expect(ask('db-9.db.web.svc.cluster.local', 'A').rcode).toBe('NXDOMAIN');
  });

  test('a headless Service with no ready endpoint is NXDOMAIN (CoreDNS); an endpoint turning ready shows at once', () => {
    const { records, slices } = source();
    expect(answerInZone('lonely.web.svc.cluster.local', 'A', records, { zone: ZONE, ttl: 5, serial: 1 }).rcode).toBe('NXDOMAIN');
    slices.upsert(slice('web', 'lonely', 'lonely-1', { endpoints: [{ addresses: ['10.244.9.9'] }] }));
    const after = answerInZone('lonely.web.svc.cluster.local', 'A', records, { zone: ZONE, ttl: 5, serial: 1 });
    expect(after.answers.map((r) => ('data' in r ? r.data : undefined))).toEqual(['10.244.9.9']);
    // No ports in the slice: the name exists with addresses, and has no SRV to give (NODATA).
    expect(answerInZone('lonely.web.svc.cluster.local', 'SRV', records, { zone: ZONE, ttl: 5, serial: 1 })).toMatchObject({ rcode: 'NOERROR', answers: [] });
  });

  test('ExternalName is a CNAME whatever the type; an endpoint under it does not exist', () => {
    for (const type of ['A', 'AAAA', 'CNAME'] as const) {
      const answer = ask('ext.web.svc.cluster.local', type);
      expect(answer.answers.map((r) => [r.type, 'data' in r ? r.data : undefined])).toEqual([['CNAME', 'example.org']]);
    }
    expect(ask('x.ext.web.svc.cluster.local', 'A').rcode).toBe('NXDOMAIN');
  });

  test('pods insecure: the IP written in the name; AAAA NODATA; not an IP, or a missing namespace, NXDOMAIN', () => {
    expect(data(ask('10-244-1-5.web.pod.cluster.local', 'A'))).toEqual(['10.244.1.5']);
    expect(ask('10-244-1-5.web.pod.cluster.local', 'AAAA')).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(ask('10-244-1.web.pod.cluster.local', 'A').rcode).toBe('NXDOMAIN');
    expect(ask('10-244-1-5.nowhere.pod.cluster.local', 'A').rcode).toBe('NXDOMAIN');
    expect(data(ask('fd00--5.web.pod.cluster.local', 'AAAA'))).toEqual(['fd00::5']);
  });

  test('names that do not exist are NXDOMAIN with the SOA; namespaces and the apex exist (NODATA)', () => {
    for (const name of ['nope.web.svc.cluster.local', 'api.nowhere.svc.cluster.local', 'foo.cluster.local', 'a.b.c.api.web.svc.cluster.local', 'nowhere.svc.cluster.local']) {
      const answer = ask(name, 'A');
      expect([name, answer.rcode, answer.authorities.map((r) => r.type)]).toEqual([name, 'NXDOMAIN', ['SOA']]);
    }
    for (const name of ['web.svc.cluster.local', 'empty.svc.cluster.local', 'svc.cluster.local', 'pod.cluster.local', 'cluster.local']) {
      expect([name, ask(name, 'A').rcode, ask(name, 'A').answers]).toEqual([name, 'NOERROR', []]);
    }
    const soa = ask('cluster.local', 'SOA');
    expect(soa.answers[0]).toMatchObject({ type: 'SOA', data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 7, minimum: 5 } });
    expect(data(ask('dns-version.cluster.local', 'TXT'))).toEqual(['1.1.0']);
  });

  test('a deleted Service is gone from the next answer', () => {
    const { records, services } = source();
    services.deleteKey('web/api');
    expect(answerInZone('api.web.svc.cluster.local', 'A', records, { zone: ZONE, ttl: 5, serial: 1 }).rcode).toBe('NXDOMAIN');
  });
});
