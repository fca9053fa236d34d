import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { describe, expect, test } from 'vitest';
import { controllerReference, planSlices, type SliceInput, type SlicePlan } from './reconcile.js';
import { sliceLabels } from './slice_rules.js';

const NODES = new Map<string, Node>([
  ['node-a', { metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-1' } } }],
  ['node-b', { metadata: { name: 'node-b' } }],
]);

function service(spec: Partial<NonNullable<Service['spec']>> = {}): Service {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', labels: { team: 'a' } },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec },
  };
}

function pod(index: number, options: { ready?: boolean; deleting?: boolean; httpPort?: number; node?: string; ips?: string[] } = {}): Pod {
  const ips = options.ips ?? [`10.1.${Math.floor(index / 250)}.${index % 250}`];
  return {
    metadata: { name: `pod-${String(index).padStart(3, '0')}`, namespace: 'default', uid: `uid-${index}`, labels: { app: 'web' }, ...(options.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: options.node ?? 'node-a', containers: [{ name: 'main', ports: [{ name: 'http', containerPort: options.httpPort ?? 8080 }] }] },
    status: { phase: 'Running', podIP: ips[0] ?? '', podIPs: ips.map((ip) => ({ ip })), conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }] },
  };
}

function pods(count: number, options: Parameters<typeof pod>[1] = {}): Pod[] {
  return Array.from({ length: count }, (_, i) => pod(i, options));
}

function plan(input: Partial<SliceInput> & { pods: readonly Pod[] }): SlicePlan {
  return planSlices({ service: service(), nodeNamed: (name) => NODES.get(name), existing: [], maxEndpointsPerSlice: 100, triggerTimeMs: undefined, ...input });
}

/** What the apiserver would store for a planned slice. */
function stored(slice: EndpointSlice, name: string, resourceVersion = '10'): EndpointSlice {
  return { ...slice, metadata: { ...slice.metadata, name, uid: `uid-${name}`, resourceVersion } };
}

const sizes = (slices: readonly EndpointSlice[]): number[] => slices.map((slice) => (slice.endpoints ?? []).length);

describe('planSlices: a new Service', () => {
  test('250 pods make 3 slices of at most 100, labelled, owned by the Service', () => {
    const result = plan({ pods: pods(250) });
    expect(sizes(result.create)).toEqual([100, 100, 50]);
    expect(result.update).toEqual([]);
    expect(result.delete).toEqual([]);
    for (const slice of result.create) {
      expect(slice.metadata?.generateName).toBe('web-');
      expect(slice.metadata?.labels).toEqual({ team: 'a', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
      expect(slice.metadata?.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
      expect(slice.addressType).toBe('IPv4');
      expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    }
    expect(new Set(result.create.flatMap((slice) => slice.endpoints ?? []).map((endpoint) => endpoint.targetRef?.name)).size).toBe(250);
  });

  test('conditions: ready = Ready and not terminating, serving = Ready, terminating = being deleted', () => {
    const result = plan({ pods: [pod(1), pod(2, { ready: false }), pod(3, { deleting: true }), pod(4, { ready: false, deleting: true })] });
    const conditions = (result.create[0]?.endpoints ?? []).map((endpoint) => [endpoint.targetRef?.name, endpoint.conditions]);
    expect(conditions).toEqual([
      ['pod-001', { ready: true, serving: true, terminating: false }],
      ['pod-002', { ready: false, serving: false, terminating: false }],
      ['pod-003', { ready: false, serving: true, terminating: true }],
      ['pod-004', { ready: false, serving: false, terminating: true }],
    ]);
  });

  test('publishNotReadyAddresses makes every endpoint ready', () => {
    const result = plan({ service: service({ publishNotReadyAddresses: true }), pods: [pod(1, { ready: false }), pod(2, { deleting: true })] });
    expect((result.create[0]?.endpoints ?? []).map((endpoint) => endpoint.conditions?.ready)).toEqual([true, true]);
  });

  test('an endpoint carries its pod, node and zone', () => {
    const [endpoint] = plan({ pods: [pod(7)] }).create[0]?.endpoints ?? [];
    expect(endpoint).toEqual({
      addresses: ['10.1.0.7'],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: 'default', name: 'pod-007', uid: 'uid-7' },
      nodeName: 'node-a',
      zone: 'zone-1',
    });
  });

  test('pods resolving a named port differently go to different slices', () => {
    const result = plan({ pods: [pod(1), pod(2, { httpPort: 9090 }), pod(3)] });
    expect(result.create.map((slice) => [slice.ports?.[0]?.port, (slice.endpoints ?? []).map((endpoint) => endpoint.targetRef?.name)])).toEqual([
      [8080, ['pod-001', 'pod-003']],
      [9090, ['pod-002']],
    ]);
  });

  test('a pod on an unknown node is left out and reported (unless publishNotReadyAddresses)', () => {
    const result = plan({ pods: [pod(1), pod(2, { node: 'node-gone' })] });
    expect(sizes(result.create)).toEqual([1]);
    expect(result.podsWithoutNode).toEqual(['pod-002']);
    const published = plan({ service: service({ publishNotReadyAddresses: true }), pods: [pod(2, { node: 'node-gone' })] });
    expect(sizes(published.create)).toEqual([1]);
  });

  test('no endpoints: one empty placeholder slice; pods without an IP do not count', () => {
    const noIp = { ...pod(1), status: { phase: 'Pending' } };
    const result = plan({ pods: [noIp] });
    expect(result.create).toHaveLength(1);
    expect(result.create[0]?.endpoints).toEqual([]);
    expect(result.create[0]?.ports).toEqual([]);
  });

  test('an IPv6 Service gets IPv6 slices of the pods’ IPv6 addresses', () => {
    const result = plan({ service: service({ ipFamilies: ['IPv6'], clusterIP: 'fd00::10' }), pods: [pod(1, { ips: ['10.1.0.1', 'fd00:1::1'] })] });
    expect(result.create.map((slice) => [slice.addressType, slice.endpoints?.[0]?.addresses])).toEqual([['IPv6', ['fd00:1::1']]]);
  });

  test('the trigger time is written on created slices', () => {
    const result = plan({ pods: [pod(1)], triggerTimeMs: Date.parse('2024-05-01T10:00:00Z') });
    expect(result.create[0]?.metadata?.annotations).toEqual({ 'endpoints.kubernetes.io/last-change-trigger-time': '2024-05-01T10:00:00Z' });
  });
});

describe('planSlices: existing slices are kept where they can be', () => {
  const existingFor = (podList: readonly Pod[]): EndpointSlice[] => plan({ pods: podList }).create.map((slice, i) => stored(slice, `web-${i}`));

  test('an up-to-date state plans nothing', () => {
    const all = pods(250);
    expect(plan({ pods: all, existing: existingFor(all) })).toEqual({ create: [], update: [], delete: [], podsWithoutNode: [] });
    expect(plan({ pods: [], existing: existingFor([]) })).toEqual({ create: [], update: [], delete: [], podsWithoutNode: [] });
  });

  test('a readiness change updates only the slice holding that pod', () => {
    const all = pods(250);
    const changed = all.map((p, i) => (i === 120 ? pod(120, { ready: false }) : p));
    const result = plan({ pods: changed, existing: existingFor(all) });
    expect(result.create).toEqual([]);
    expect(result.delete).toEqual([]);
    expect(result.update.map((slice) => slice.metadata?.name)).toEqual(['web-1']);
    expect(result.update[0]?.metadata?.resourceVersion).toBe('10');
    expect(result.update[0]?.endpoints?.find((endpoint) => endpoint.targetRef?.name === 'pod-120')?.conditions?.ready).toBe(false);
  });

  test('new pods fill the slice being updated first, then the unchanged slice they fit best, before a new slice', () => {
    const first = pods(150);
    const existing = existingFor(first); // 100 + 50
    const more = [...first.slice(0, 149), ...Array.from({ length: 30 }, (_, i) => pod(300 + i))]; // pod-149 gone, 30 new
    const result = plan({ pods: more, existing });
    expect(result.create).toEqual([]);
    expect(result.update.map((slice) => [slice.metadata?.name, (slice.endpoints ?? []).length])).toEqual([['web-1', 79]]);
    // Only additions: no slice is written anyway, so 40 new endpoints go to the unchanged slice
    // closest to full that holds them all (web-1: 50 → 90); 60 fit none, so they get a new slice.
    const forty = plan({ pods: [...first, ...Array.from({ length: 40 }, (_, i) => pod(400 + i))], existing });
    expect(forty.create).toEqual([]);
    expect(forty.update.map((slice) => [slice.metadata?.name, (slice.endpoints ?? []).length])).toEqual([['web-1', 90]]);
    const sixty = plan({ pods: [...first, ...Array.from({ length: 60 }, (_, i) => pod(400 + i))], existing });
    expect(sixty.update).toEqual([]);
    expect(sizes(sixty.create)).toEqual([60]);
  });

  test('a pod gone from a slice that empties deletes it; a deleted slice and a new one become one update', () => {
    const existing = existingFor([pod(1)]);
    const gone = plan({ pods: [], existing });
    // Nothing left: the emptied slice is reused as the placeholder rather than deleted and created.
    expect(gone.delete).toEqual([]);
    expect(gone.create).toEqual([]);
    expect(gone.update.map((slice) => [slice.metadata?.name, slice.endpoints, slice.ports])).toEqual([['web-0', [], []]]);
  });

  test('an endpoint listed in two slices is kept in one; a slice not owned by the Service (uid) is deleted', () => {
    const all = pods(3);
    const [slice] = existingFor(all);
    const duplicate = { ...stored(slice as EndpointSlice, 'web-dup'), endpoints: [...(slice?.endpoints ?? [])].slice(0, 1) };
    const foreign = { ...stored(slice as EndpointSlice, 'web-old'), metadata: { ...slice?.metadata, name: 'web-old', uid: 'uid-old', ownerReferences: [{ ...controllerReference(service()), uid: 'old-service' }] } };
    const result = plan({ pods: all, existing: [slice as EndpointSlice, duplicate, foreign] });
    expect(result.create).toEqual([]);
    expect(result.update).toEqual([]);
    expect(result.delete.map((s) => s.metadata?.name).sort()).toEqual(['web-dup', 'web-old']);
  });

  test("slices whose labels drifted from the Service's get them back", () => {
    const existing = existingFor([pod(1)]).map((slice) => ({ ...slice, metadata: { ...slice.metadata, labels: { ...slice.metadata?.labels, team: 'b', extra: 'x' } } }));
    const result = plan({ pods: [pod(1)], existing });
    expect(result.update[0]?.metadata?.labels).toEqual(sliceLabels(service()));
  });

  test('slices of an address type the Service no longer has are deleted', () => {
    const existing = existingFor([pod(1)]).map((slice) => ({ ...slice, addressType: 'IPv6' }));
    const result = plan({ pods: [pod(1)], existing });
    expect(result.delete.map((slice) => slice.metadata?.name)).toEqual(['web-0']);
    expect(sizes(result.create)).toEqual([1]);
  });
});
