import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { formatResolvConf, parseResolvConf, podResolvConf as podDnsConfig, type PodDnsOptions } from './resolv_conf.js';

const podResolvConf = (pod: Pod, options: PodDnsOptions): string => formatResolvConf(podDnsConfig(pod, options));

const HOST = `# generated
nameserver 192.168.1.1
nameserver 192.168.1.2 ; second
search corp.example. lab.example
options timeout:2 attempts:3
options timeout:1
`;
const CLUSTER = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: HOST };

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, namespace = 'shop'): Pod {
  return { metadata: { name: 'p', namespace }, spec: { containers: [{ name: 'c' }], ...spec } };
}

describe('podResolvConf, as the kubelet writes it', () => {
  test('parseResolvConf: every nameserver, the last search line without trailing dots, options merged by name', () => {
    expect(parseResolvConf(HOST)).toEqual({ nameservers: ['192.168.1.1', '192.168.1.2'], searches: ['corp.example', 'lab.example'], options: ['timeout:1', 'attempts:3'] });
  });

  test('ClusterFirst (the default): cluster DNS, namespace searches then the host searches, ndots:5', () => {
    const expected = 'nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\noptions ndots:5\n';
    expect(podResolvConf(pod(), CLUSTER)).toBe(expected);
    expect(podResolvConf(pod({ dnsPolicy: 'ClusterFirst' }), CLUSTER)).toBe(expected);
  });

  test('hostNetwork with ClusterFirst gets the host resolv.conf; ClusterFirstWithHostNet gets cluster DNS', () => {
    const host = 'nameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch corp.example lab.example\noptions timeout:1 attempts:3\n';
    expect(podResolvConf(pod({ hostNetwork: true }), CLUSTER)).toBe(host);
    expect(podResolvConf(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), CLUSTER)).toMatch(/^nameserver 10\.96\.0\.10\nsearch shop\.svc\.cluster\.local /);
    expect(podResolvConf(pod({ dnsPolicy: 'Default' }), CLUSTER)).toBe(host);
  });

  test('Default with no --resolv-conf: the local nameserver and search "."; ClusterFirst without cluster DNS falls back to Default', () => {
    expect(podResolvConf(pod({ dnsPolicy: 'Default' }), { ...CLUSTER, hostResolvConf: '' })).toBe('nameserver 127.0.0.1\nsearch .\n');
    expect(podResolvConf(pod(), { ...CLUSTER, clusterDNS: [] })).toMatch(/^nameserver 192\.168\.1\.1\n/);
  });

  test('None: only dnsConfig; dnsConfig is appended without duplicates and its options win by name', () => {
    const dnsConfig = { nameservers: ['1.1.1.1'], searches: ['my.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] };
    expect(podResolvConf(pod({ dnsPolicy: 'None', dnsConfig }), CLUSTER)).toBe('nameserver 1.1.1.1\nsearch my.example\noptions ndots:2 edns0\n');
    expect(podResolvConf(pod({ dnsConfig: { ...dnsConfig, nameservers: ['10.96.0.10', '1.1.1.1'], searches: ['cluster.local', 'my.example'] } }), CLUSTER)).toBe(
      'nameserver 10.96.0.10\nnameserver 1.1.1.1\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example my.example\noptions ndots:2 edns0\n',
    );
    expect(podResolvConf(pod({ dnsPolicy: 'None' }), CLUSTER)).toBe('');
  });

  test('limits: 3 nameservers, 32 search domains, none over 253 chars, the search line within 2048 chars', () => {
    const nameservers = ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'];
    expect(podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers } }), CLUSTER)).toBe('nameserver 1.1.1.1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\n');

    const many = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    const searchLine = (text: string): string[] => (/^search (.*)$/m.exec(text)?.[1] ?? '').split(' ');
    expect(searchLine(podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { searches: many } }), CLUSTER))).toEqual(many.slice(0, 32));

    const tooLong = `${'a'.repeat(250)}.example`;
    expect(searchLine(podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { searches: ['ok.example', tooLong] } }), CLUSTER))).toEqual(['ok.example']);

    const long = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(120)}.example`);
    const fitted = searchLine(podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { searches: long } }), CLUSTER));
    expect(fitted.join(' ').length).toBeLessThanOrEqual(2048);
    expect(fitted).toEqual(long.slice(0, fitted.length));
    expect(fitted.length).toBe(15);
  });
});
