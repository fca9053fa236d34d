import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { findPort, podIps, serviceSelector, servicesMatching, servicesToSyncOnPodUpdate, shouldPodBeInEndpoints, shouldSetHostname } from './endpoint_rules.js';

function pod(name: string, options: { labels?: Record<string, string>; ip?: string; ready?: boolean; deleting?: boolean; phase?: string; rv?: string } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      resourceVersion: options.rv ?? '1',
      labels: options.labels ?? { app: 'web' },
      ...(options.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    },
    spec: { nodeName: 'node-a', containers: [{ name: 'main', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] }] },
    status: {
      phase: options.phase ?? 'Running',
      ...(options.ip === undefined ? {} : { podIP: options.ip, podIPs: [{ ip: options.ip }] }),
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  };
}

function service(name: string, selector: Record<string, string> | undefined): Service {
  return { metadata: { name, namespace: 'default' }, spec: { ...(selector === undefined ? {} : { selector }), ports: [{ port: 80 }] } };
}

describe('which pods count', () => {
  test('a pod needs an IP and must not be terminal', () => {
    expect(shouldPodBeInEndpoints(pod('a', { ip: '10.0.0.1' }), false)).toBe(true);
    expect(shouldPodBeInEndpoints(pod('a'), false)).toBe(false);
    expect(shouldPodBeInEndpoints(pod('a', { ip: '10.0.0.1', phase: 'Succeeded' }), true)).toBe(false);
    expect(shouldPodBeInEndpoints(pod('a', { ip: '10.0.0.1', phase: 'Failed' }), true)).toBe(false);
  });

  test('a terminating pod counts only when asked to', () => {
    expect(shouldPodBeInEndpoints(pod('a', { ip: '10.0.0.1', deleting: true }), false)).toBe(false);
    expect(shouldPodBeInEndpoints(pod('a', { ip: '10.0.0.1', deleting: true }), true)).toBe(true);
  });

  test('status.podIP stands in when podIPs is missing', () => {
    const single = { ...pod('a'), status: { podIP: '10.0.0.9' } };
    expect(podIps(single)).toEqual(['10.0.0.9']);
  });
});

describe('findPort', () => {
  test('a numeric targetPort is taken as it is, a named one is resolved on the pod with its protocol', () => {
    const web = pod('a');
    expect(findPort(web, { port: 80, targetPort: 9000 })).toBe(9000);
    expect(findPort(web, { port: 80 })).toBe(80);
    expect(findPort(web, { port: 80, targetPort: 'http', protocol: 'TCP' })).toBe(8080);
    expect(findPort(web, { port: 53, targetPort: 'dns', protocol: 'UDP' })).toBe(53);
    expect(findPort(web, { port: 53, targetPort: 'dns', protocol: 'TCP' })).toBeUndefined();
    expect(findPort(web, { port: 80, targetPort: 'missing' })).toBeUndefined();
  });

  test('a sidecar (restartable init container) port resolves, a plain init container port does not', () => {
    const withInit = pod('a');
    withInit.spec = {
      ...withInit.spec,
      containers: [],
      initContainers: [
        { name: 'setup', ports: [{ name: 'setup', containerPort: 1000 }] },
        { name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'proxy', containerPort: 15001 }] },
      ],
    };
    expect(findPort(withInit, { port: 80, targetPort: 'proxy' })).toBe(15001);
    expect(findPort(withInit, { port: 80, targetPort: 'setup' })).toBeUndefined();
  });
});

describe('Service membership', () => {
  test('no selector and an empty selector both select nothing', () => {
    expect(serviceSelector(service('a', undefined))).toBeUndefined();
    expect(serviceSelector(service('a', {}))).toBeUndefined();
    expect([...servicesMatching([service('none', undefined), service('empty', {}), service('web', { app: 'web' })], { app: 'web' })]).toEqual(['default/web']);
  });

  test('hostname is published only when the subdomain names the Service', () => {
    const named = pod('a');
    named.spec = { ...named.spec, containers: named.spec?.containers ?? [], hostname: 'a', subdomain: 'web' };
    expect(shouldSetHostname(named, service('web', { app: 'web' }))).toBe(true);
    expect(shouldSetHostname(named, service('other', { app: 'web' }))).toBe(false);
  });

  test('a pod update syncs nothing on resync or irrelevant change, the members on a readiness change', () => {
    const services = [service('web', { app: 'web' }), service('db', { app: 'db' })];
    const before = pod('a', { ip: '10.0.0.1', ready: false, rv: '5' });
    expect([...servicesToSyncOnPodUpdate(services, before, before)]).toEqual([]);
    expect([...servicesToSyncOnPodUpdate(services, before, { ...before, metadata: { ...before.metadata, resourceVersion: '6', annotations: { a: 'b' } } })]).toEqual([]);
    expect([...servicesToSyncOnPodUpdate(services, before, pod('a', { ip: '10.0.0.1', ready: true, rv: '6' }))]).toEqual(['default/web']);
  });

  test('a label change syncs the Services left and joined; with a pod change, all of them', () => {
    const services = [service('web', { app: 'web' }), service('all', { tier: 'x' }), service('db', { app: 'db' })];
    const before = pod('a', { ip: '10.0.0.1', labels: { app: 'web', tier: 'x' }, rv: '5' });
    const relabelled = pod('a', { ip: '10.0.0.1', labels: { app: 'db', tier: 'x' }, rv: '6' });
    expect([...servicesToSyncOnPodUpdate(services, before, relabelled)].sort()).toEqual(['default/db', 'default/web']);
    const relabelledAndUnready = pod('a', { ip: '10.0.0.1', labels: { app: 'db', tier: 'x' }, ready: false, rv: '6' });
    expect([...servicesToSyncOnPodUpdate(services, before, relabelledAndUnready)].sort()).toEqual(['default/all', 'default/db', 'default/web']);
  });
});
