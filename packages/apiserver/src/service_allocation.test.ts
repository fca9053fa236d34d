import { applyDefaults, findResource, validateObject, type ApiError, type ResourceType } from '@k8ts/apimachinery';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from './object_store.js';
import { allocateServiceCreate, allocateServiceUpdate, heldAllocations, type HeldAllocations } from './service_allocation.js';

const SERVICES = findResource('', 'v1', 'services') as ResourceType;
const NOTHING_HELD: HeldAllocations = { clusterIPs: new Set(), nodePorts: new Set() };
/** Picks the first free value of a band, so a test can name what it gets. */
const first = (): number => 0;

function service(name: string, spec: Record<string, unknown>): KubeObject {
  const object = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec } as KubeObject;
  applyDefaults(SERVICES, object);
  return object;
}

function spec(object: KubeObject): Record<string, unknown> {
  return object['spec'] as Record<string, unknown>;
}

/** The 422's causes as kubectl prints them. */
function causes(run: () => void): string[] {
  try {
    run();
  } catch (error) {
    const status = (error as ApiError).status;
    return (status.details?.causes ?? []).map((cause) => `${cause.field}: ${cause.message}`);
  }
  throw new Error('expected a 422');
}

describe('create', () => {
  it('gives a ClusterIP Service an address above the static band, with one IPv4 family, single stack', () => {
    const web = service('web', { ports: [{ port: 80 }] });
    allocateServiceCreate(web, NOTHING_HELD, first);
    expect(spec(web)).toMatchObject({ clusterIP: '10.96.1.1', clusterIPs: ['10.96.1.1'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
    expect(validateObject(SERVICES, web)).toEqual([]);
  });

  it('walks past held addresses and node ports', () => {
    const held = heldAllocations([
      { metadata: { name: 'a', namespace: 'default' }, spec: { clusterIP: '10.96.1.1', clusterIPs: ['10.96.1.1'], ports: [{ port: 80, nodePort: 30086 }] } },
    ] as KubeObject[]);
    const web = service('web', { type: 'NodePort', ports: [{ port: 80 }] });
    allocateServiceCreate(web, held, first);
    expect(spec(web)['clusterIP']).toBe('10.96.1.2');
    expect((spec(web)['ports'] as { nodePort: number }[])[0]?.nodePort).toBe(30087);
  });

  it('keeps a requested address in range, and refuses one outside the range or held', () => {
    const fixed = service('fixed', { clusterIP: '10.96.0.10', ports: [{ port: 53 }] });
    allocateServiceCreate(fixed, NOTHING_HELD, first);
    expect(spec(fixed)['clusterIPs']).toEqual(['10.96.0.10']);
    expect(causes(() => allocateServiceCreate(service('out', { clusterIP: '10.0.0.1', ports: [{ port: 80 }] }), NOTHING_HELD))).toEqual([
      'spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    ]);
    // The network address is not handed out either.
    expect(causes(() => allocateServiceCreate(service('net', { clusterIP: '10.96.0.0', ports: [{ port: 80 }] }), NOTHING_HELD))[0]).toContain('is not in the valid range');
    const held = heldAllocations([fixed]);
    expect(causes(() => allocateServiceCreate(service('again', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] }), held))).toEqual([
      'spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated',
    ]);
    expect(causes(() => allocateServiceCreate(service('bad', { clusterIP: 'ten', ports: [{ port: 80 }] }), NOTHING_HELD))).toEqual([
      'spec.clusterIPs[0]: Invalid value: "ten": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
  });

  it('refuses IPv6 and dual stack on this single-stack cluster', () => {
    expect(causes(() => allocateServiceCreate(service('v6', { clusterIP: 'fd00::1', ports: [{ port: 80 }] }), NOTHING_HELD))).toEqual([
      'spec.clusterIPs[0]: Invalid value: []string{"fd00::1"}: IPv6 is not configured on this cluster',
    ]);
    expect(causes(() => allocateServiceCreate(service('dual', { ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80 }] }), NOTHING_HELD))).toEqual([
      'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services',
    ]);
    const prefer = service('prefer', { ipFamilyPolicy: 'PreferDualStack', ports: [{ port: 80 }] });
    allocateServiceCreate(prefer, NOTHING_HELD, first);
    expect(spec(prefer)['ipFamilies']).toEqual(['IPv4']);
  });

  it('gives headless Services no address; one without a selector is RequireDualStack with both families, as upstream', () => {
    const withSelector = service('h1', { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] });
    allocateServiceCreate(withSelector, NOTHING_HELD, first);
    expect(spec(withSelector)).toMatchObject({ clusterIP: 'None', clusterIPs: ['None'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
    const withoutSelector = service('h2', { clusterIP: 'None' });
    allocateServiceCreate(withoutSelector, NOTHING_HELD, first);
    expect(spec(withoutSelector)).toMatchObject({ clusterIPs: ['None'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' });
  });

  it('gives an ExternalName Service nothing', () => {
    const name = service('db', { type: 'ExternalName', externalName: 'db.example.com' });
    allocateServiceCreate(name, NOTHING_HELD, first);
    expect(spec(name)['clusterIP']).toBeUndefined();
    expect(spec(name)['ipFamilies']).toBeUndefined();
    expect(validateObject(SERVICES, name)).toEqual([]);
  });

  it('checks requested node ports against the range and what is held; one port number over two protocols shares one node port', () => {
    expect(causes(() => allocateServiceCreate(service('far', { type: 'NodePort', ports: [{ port: 80, nodePort: 40000 }] }), NOTHING_HELD))).toEqual([
      'spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767',
    ]);
    const held = heldAllocations([{ metadata: { name: 'a', namespace: 'x' }, spec: { ports: [{ port: 80, nodePort: 30080 }] } }] as KubeObject[]);
    expect(causes(() => allocateServiceCreate(service('taken', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }), held))).toEqual([
      'spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
    ]);
    const dns = service('dns', {
      type: 'NodePort',
      ports: [
        { name: 'tcp', port: 53, protocol: 'TCP' },
        { name: 'udp', port: 53, protocol: 'UDP', nodePort: 30053 },
      ],
    });
    allocateServiceCreate(dns, NOTHING_HELD, first);
    expect((spec(dns)['ports'] as { nodePort: number }[]).map((port) => port.nodePort)).toEqual([30053, 30053]);
  });

  it('allocates node ports for a LoadBalancer unless allocateLoadBalancerNodePorts is false, and a health check port for Local', () => {
    const lb = service('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] });
    allocateServiceCreate(lb, NOTHING_HELD, first);
    expect(spec(lb)['healthCheckNodePort']).toBe(30087);
    expect((spec(lb)['ports'] as { nodePort: number }[])[0]?.nodePort).toBe(30086);
    expect(validateObject(SERVICES, lb)).toEqual([]);
    const none = service('none', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }] });
    allocateServiceCreate(none, NOTHING_HELD, first);
    expect((spec(none)['ports'] as { nodePort?: number }[])[0]?.nodePort).toBeUndefined();
  });
});

describe('update', () => {
  function created(name: string, fields: Record<string, unknown>, held = NOTHING_HELD): KubeObject {
    const object = service(name, fields);
    allocateServiceCreate(object, held, first);
    return object;
  }

  function put(old: KubeObject, fields: Record<string, unknown>, held = NOTHING_HELD): KubeObject {
    const next = service(old.metadata?.name ?? '', fields);
    allocateServiceUpdate(next, old, held, first);
    return next;
  }

  it('keeps the cluster IP and node ports a PUT leaves out', () => {
    const old = created('web', { type: 'NodePort', ports: [{ name: 'http', port: 80 }] });
    const next = put(old, { type: 'NodePort', ports: [{ name: 'http', port: 80 }] });
    expect(spec(next)['clusterIPs']).toEqual(spec(old)['clusterIPs']);
    expect(spec(next)['ports']).toEqual(spec(old)['ports']);
    expect(validateObject(SERVICES, next, old)).toEqual([]);
  });

  it('refuses a changed cluster IP with upstream 1.32 message', () => {
    const old = created('web', { ports: [{ port: 80 }] });
    const next = put(old, { clusterIP: '10.96.0.99', ports: [{ port: 80 }] });
    expect(validateObject(SERVICES, next, old).map((error) => `${error.field}: ${error.detail}`)).toEqual(['spec.clusterIPs[0]: may not change once set']);
  });

  it('allocates node ports going to NodePort, and drops unchanged ones going back to ClusterIP', () => {
    const old = created('web', { ports: [{ port: 80 }] });
    const nodePort = put(old, { type: 'NodePort', ports: [{ port: 80 }] });
    const allocated = (spec(nodePort)['ports'] as { nodePort: number }[])[0]?.nodePort;
    expect(allocated).toBe(30086);
    expect(spec(nodePort)['externalTrafficPolicy']).toBe('Cluster');
    const back = service('web', structuredClone({ ...spec(nodePort), type: 'ClusterIP' }));
    allocateServiceUpdate(back, nodePort, NOTHING_HELD, first);
    expect((spec(back)['ports'] as { nodePort?: number }[])[0]?.nodePort).toBeUndefined();
    expect(spec(back)['externalTrafficPolicy']).toBeUndefined();
    expect(validateObject(SERVICES, back, nodePort)).toEqual([]);
  });

  it('keeps a node port changed along with the type, for validation to refuse', () => {
    const old = created('web', { type: 'NodePort', ports: [{ port: 80 }] });
    const next = service('web', { ...structuredClone(spec(old)), type: 'ClusterIP', ports: [{ port: 80, nodePort: 30999 }] });
    allocateServiceUpdate(next, old, NOTHING_HELD, first);
    expect(validateObject(SERVICES, next, old).map((error) => `${error.field}: ${error.detail}`)).toContain(
      "spec.ports[0].nodePort: may not be used when `type` is 'ClusterIP'",
    );
  });

  it('refuses a new node port another Service holds', () => {
    const old = created('web', { type: 'NodePort', ports: [{ port: 80 }] });
    const held = heldAllocations([{ metadata: { name: 'a', namespace: 'default' }, spec: { ports: [{ port: 80, nodePort: 30500 }] } }] as KubeObject[]);
    expect(causes(() => put(old, { type: 'NodePort', ports: [{ port: 80, nodePort: 30500 }] }, held))).toEqual([
      'spec.ports[0].nodePort: Invalid value: 30500: provided port is already allocated',
    ]);
  });

  it('releases cluster IPs going to ExternalName and allocates one coming back', () => {
    const old = created('web', { ports: [{ port: 80 }] });
    const external = service('web', { ...structuredClone(spec(old)), type: 'ExternalName', externalName: 'example.com' });
    allocateServiceUpdate(external, old, NOTHING_HELD, first);
    expect(spec(external)['clusterIP']).toBeUndefined();
    expect(spec(external)['ipFamilies']).toBeUndefined();
    expect(validateObject(SERVICES, external, old)).toEqual([]);
    const back = put(external, { ports: [{ port: 80 }] });
    expect(spec(back)['clusterIP']).toBe('10.96.1.1');
  });

  it('does not count the Service itself as holding its own values', () => {
    const old = created('web', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30100 }] });
    const held = heldAllocations([old], { namespace: 'default', name: 'web' });
    const next = put(old, { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30100 }] }, held);
    expect(validateObject(SERVICES, next, old)).toEqual([]);
  });
});
