import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { planEndpoints } from './endpoints_object.js';
import { TriggerTimeTracker, formatRfc3339Nano } from '../framework/endpoint_trigger_time.js';

const CREATED = '2024-05-01T10:00:00Z';

function service(clusterIP = '10.96.0.10'): Service {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'svc', creationTimestamp: CREATED, labels: { team: 'a' } },
    spec: { selector: { app: 'web' }, clusterIP, ports: [{ port: 80, protocol: 'TCP' }] },
  };
}

function pod(name: string, ip: string, readySince = '2024-05-01T10:00:05Z'): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' } },
    spec: { nodeName: 'node-a', containers: [] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: readySince }] },
  };
}

describe('planEndpoints', () => {
  test("a new Endpoints carries the Service's labels, the trigger time and the subsets", () => {
    const endpoints = planEndpoints(service(), undefined, [pod('a', '10.0.0.1')], Date.parse(CREATED)) as Endpoints;
    expect(endpoints.metadata).toEqual({ name: 'web', namespace: 'default', labels: { team: 'a' }, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2024-05-01T10:00:00Z' } });
    expect(endpoints.subsets?.[0]?.addresses?.map((address) => address.ip)).toEqual(['10.0.0.1']);
  });

  test('a headless Service labels its Endpoints service.kubernetes.io/headless', () => {
    expect(planEndpoints(service('None'), undefined, [], undefined)?.metadata?.labels).toEqual({ team: 'a', 'service.kubernetes.io/headless': '' });
  });

  test('an up-to-date Endpoints is not written again, whatever its trigger time; an edited one is', () => {
    const written = planEndpoints(service(), undefined, [pod('a', '10.0.0.1')], 1000) as Endpoints;
    const stored: Endpoints = { ...written, metadata: { ...written.metadata, resourceVersion: '7', uid: 'e' } };
    expect(planEndpoints(service(), stored, [pod('a', '10.0.0.1')], 2000)).toBeUndefined();
    const edited: Endpoints = { ...stored, subsets: [{ addresses: [{ ip: '10.9.9.9' }], ports: [{ port: 80 }] }] };
    const repaired = planEndpoints(service(), edited, [pod('a', '10.0.0.1')], undefined) as Endpoints;
    expect(repaired.metadata?.resourceVersion).toBe('7');
    expect(repaired.subsets).toEqual(written.subsets);
    expect(repaired.metadata?.annotations).toEqual({});
    const relabelled: Endpoints = { ...stored, metadata: { ...stored.metadata, labels: { team: 'b' } } };
    expect(planEndpoints(service(), relabelled, [pod('a', '10.0.0.1')], undefined)?.metadata?.labels).toEqual({ team: 'a' });
  });

  test('over 1000 addresses are truncated and annotated, and then left alone', () => {
    const pods = Array.from({ length: 1001 }, (_, i) => pod(`p${i}`, `10.0.${Math.floor(i / 250)}.${i % 250}`));
    const endpoints = planEndpoints(service(), undefined, pods, undefined) as Endpoints;
    expect(endpoints.subsets?.[0]?.addresses).toHaveLength(1000);
    expect(endpoints.metadata?.annotations?.['endpoints.kubernetes.io/over-capacity']).toBe('truncated');
    expect(planEndpoints(service(), { ...endpoints, metadata: { ...endpoints.metadata, resourceVersion: '3' } }, pods, undefined)).toBeUndefined();
  });
});

describe('TriggerTimeTracker', () => {
  test("the first sync reports the Service's creation; later ones the earliest change since the last sync; none when nothing changed", () => {
    const tracker = new TriggerTimeTracker();
    const sync = (pods: Pod[]): number | undefined => {
      const { timeMs, record } = tracker.compute(service(), pods);
      record();
      return timeMs;
    };
    expect(sync([pod('a', '10.0.0.1')])).toBe(Date.parse(CREATED));
    expect(sync([pod('a', '10.0.0.1')])).toBeUndefined();
    const later = [pod('a', '10.0.0.1', '2024-05-01T10:05:00Z'), pod('b', '10.0.0.2', '2024-05-01T10:03:00Z')];
    expect(sync(later)).toBe(Date.parse('2024-05-01T10:03:00Z'));
    tracker.deleteService('default', 'web');
    expect(sync(later)).toBe(Date.parse(CREATED));
  });

  test('a sync that did not record (its write failed) leaves its changes for the retry', () => {
    const tracker = new TriggerTimeTracker();
    tracker.compute(service(), [pod('a', '10.0.0.1')]).record();
    const changed = [pod('a', '10.0.0.1'), pod('b', '10.0.0.2', '2024-05-01T10:03:00Z')];
    expect(tracker.compute(service(), changed).timeMs).toBe(Date.parse('2024-05-01T10:03:00Z'));
    const retry = tracker.compute(service(), changed);
    expect(retry.timeMs).toBe(Date.parse('2024-05-01T10:03:00Z'));
    retry.record();
    expect(tracker.compute(service(), changed).timeMs).toBeUndefined();
  });

  test("formatRfc3339Nano writes Go's RFC3339Nano: no trailing zeros in the fraction", () => {
    expect(formatRfc3339Nano(Date.parse('2024-05-01T10:00:00Z'))).toBe('2024-05-01T10:00:00Z');
    expect(formatRfc3339Nano(Date.parse('2024-05-01T10:00:00.120Z'))).toBe('2024-05-01T10:00:00.12Z');
    expect(formatRfc3339Nano(Date.parse('2024-05-01T10:00:00.007Z'))).toBe('2024-05-01T10:00:00.007Z');
  });
});
