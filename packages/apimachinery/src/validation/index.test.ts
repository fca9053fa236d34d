import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../defaults.js';
import type { FieldError } from '../errors.js';
import { apiErrors, formatFieldError } from '../errors.js';
import { findResource } from '../resources.js';
import type { ResourceType } from '../resources.js';
import { validateObject } from './index.js';

function resourceType(resource: string, group = ''): ResourceType {
  const type = findResource(group, 'v1', resource);
  if (type === undefined) throw new Error(`no resource ${group}/${resource}`);
  return type;
}

function messages(errors: readonly FieldError[]): string[] {
  return errors.map(formatFieldError);
}

/** Defaults then validates, as the API server does; errors read as kubectl prints them. */
function check(resource: string, object: unknown, old?: unknown, group = ''): string[] {
  const type = resourceType(resource, group);
  applyDefaults(type, object, old === undefined ? 'create' : 'update');
  return messages(validateObject(type, object, old));
}

function pod(overrides: Record<string, unknown> = {}, container: Record<string, unknown> = {}) {
  return {
    metadata: { name: 'web', namespace: 'default' },
    spec: { containers: [{ name: 'web', image: 'nginx:1.27', ...container }], ...overrides },
  };
}

const SUBDOMAIN_REGEX = "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'";

describe('metadata', () => {
  it('accepts a minimal pod', () => {
    expect(check('pods', pod())).toEqual([]);
  });

  it('requires a name unless generateName is set', () => {
    expect(check('pods', { ...pod(), metadata: { namespace: 'default' } })).toEqual([
      'metadata.name: Required value: name or generateName is required',
    ]);
    expect(check('pods', { ...pod(), metadata: { namespace: 'default', generateName: 'web-' } })).toEqual([]);
  });

  it('checks the name with the resource own rule', () => {
    expect(check('pods', { ...pod(), metadata: { name: 'Web', namespace: 'default' } })).toEqual([
      `metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', ${SUBDOMAIN_REGEX})`,
    ]);
    expect(check('namespaces', { metadata: { name: 'team.a' } })).toEqual(['metadata.name: Invalid value: "team.a": must not contain dots']);
    expect(check('services', { metadata: { name: '1web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } })[0]).toMatch(
      /^metadata\.name: Invalid value: "1web": a DNS-1035 label must consist of/,
    );
  });

  it('requires a namespace for namespaced kinds and forbids it for cluster-scoped ones', () => {
    expect(check('configmaps', { metadata: { name: 'cfg' } })).toEqual(['metadata.namespace: Required value']);
    expect(check('nodes', { metadata: { name: 'n1', namespace: 'default' } })).toEqual([
      'metadata.namespace: Forbidden: not allowed on this type',
    ]);
  });

  it('checks label keys, label values and annotation keys', () => {
    const errors = check('configmaps', {
      metadata: { name: 'cfg', namespace: 'default', labels: { 'bad key': 'ok', good: 'x'.repeat(64) }, annotations: { 'a/b/c': '' } },
    });
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/^metadata\.labels: Invalid value: "bad key": name part must consist of alphanumeric characters/);
    expect(errors[1]).toBe(`metadata.labels: Invalid value: "${'x'.repeat(64)}": must be no more than 63 characters`);
    expect(errors[2]).toMatch(/^metadata\.annotations: Invalid value: "a\/b\/c": a qualified name must consist of/);
  });

  it('limits annotations to 256 KiB in total', () => {
    const errors = check('configmaps', { metadata: { name: 'cfg', namespace: 'default', annotations: { big: 'x'.repeat(262144) } } });
    expect(errors).toEqual(['metadata.annotations: Too long: may not be more than 262144 bytes']);
  });

  it('keeps name, namespace, uid and creationTimestamp on update', () => {
    const old = { metadata: { name: 'cfg', namespace: 'default', uid: 'u1', creationTimestamp: '2024-01-01T00:00:00Z' } };
    expect(check('configmaps', { metadata: { name: 'cfg', namespace: 'default' } }, old)).toEqual([]);
    expect(check('configmaps', { metadata: { name: 'cfg', namespace: 'default', uid: 'u2' } }, old)).toEqual([
      'metadata.uid: Invalid value: "u2": field is immutable',
    ]);
    expect(check('configmaps', { metadata: { name: 'other', namespace: 'default' } }, old)).toEqual([
      'metadata.name: Invalid value: "other": field is immutable',
    ]);
  });

  it('renders into the 422 Status kubectl prints', () => {
    const errors = validateObject(resourceType('pods'), { metadata: { namespace: 'default' }, spec: {} });
    expect(apiErrors.invalid(resourceType('pods'), '', errors).message).toBe(
      'Pod "" is invalid: [metadata.name: Required value: name or generateName is required, spec.containers: Required value, spec.restartPolicy: Required value, spec.dnsPolicy: Required value]',
    );
  });
});

describe('pods', () => {
  it('requires containers, names and images', () => {
    expect(check('pods', pod({ containers: [] }))).toEqual(['spec.containers: Required value']);
    expect(check('pods', pod({}, { name: '', image: '' }))).toEqual([
      'spec.containers[0].name: Required value',
      'spec.containers[0].image: Required value',
    ]);
  });

  it('wants container names to be unique DNS labels', () => {
    const errors = check('pods', pod({ containers: [{ name: 'a_b', image: 'x' }, { name: 'web', image: 'x' }, { name: 'web', image: 'x' }] }));
    expect(errors[0]).toMatch(/^spec\.containers\[0\]\.name: Invalid value: "a_b": a lowercase RFC 1123 label must consist of/);
    expect(errors[1]).toBe('spec.containers[2].name: Duplicate value: "web"');
  });

  it('checks ports and protocols', () => {
    expect(check('pods', pod({}, { ports: [{ containerPort: 70000 }, { containerPort: 80, protocol: 'HTTP' }, {}] }))).toEqual([
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      'spec.containers[0].ports[2].containerPort: Required value',
    ]);
  });

  it('checks the restart policy', () => {
    expect(check('pods', pod({ restartPolicy: 'Sometimes' }))).toEqual([
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
  });

  it('checks resource quantities and requests against limits', () => {
    expect(check('pods', pod({}, { resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }))).toEqual([
      'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ]);
    expect(check('pods', pod({}, { resources: { requests: { memory: '1Gx' } } }))).toEqual([
      `spec.containers[0].resources.requests[memory]: Invalid value: "1Gx": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    ]);
    expect(check('pods', pod({}, { resources: { requests: { cpu: '-1' } } }))).toEqual([
      'spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0',
    ]);
    expect(check('pods', pod({}, { resources: { requests: { cpu: 0.5, memory: '128Mi' }, limits: { cpu: '500m' } } }))).toEqual([]);
  });

  it('checks volume mounts against volumes', () => {
    expect(check('pods', pod({}, { volumeMounts: [{ name: 'data', mountPath: '/data' }] }))).toEqual([
      'spec.containers[0].volumeMounts[0].name: Not found: "data"',
    ]);
    expect(check('pods', pod({ volumes: [{ name: 'data' }] }, { volumeMounts: [{ name: 'data', mountPath: '/data' }] }))).toEqual([]);
  });

  it('lets an update change only images and the few mutable fields', () => {
    const old = pod();
    applyDefaults(resourceType('pods'), old);
    expect(check('pods', pod({}, { image: 'nginx:1.28' }), old)).toEqual([]);
    expect(check('pods', pod({ activeDeadlineSeconds: 30 }), old)).toEqual([]);
    const errors = check('pods', pod({ restartPolicy: 'Never' }), old);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^spec: Forbidden: pod updates may not change fields other than `spec\.containers\[\*\]\.image`,`spec\.initContainers\[\*\]\.image`,`spec\.activeDeadlineSeconds`,`spec\.tolerations` \(only additions to existing tolerations\),`spec\.terminationGracePeriodSeconds` \(allow it to be set to 1 if it was previously negative\)\n/,
    );
    expect(errors[0]).toContain('restartPolicy');
  });

  it('forbids adding containers on update', () => {
    const old = pod();
    applyDefaults(resourceType('pods'), old);
    const updated = pod({ containers: [{ name: 'web', image: 'nginx' }, { name: 'sidecar', image: 'busybox' }] });
    expect(check('pods', updated, old)).toEqual(['spec.containers: Forbidden: pod updates may not add or remove containers']);
  });
});

function deployment(spec: Record<string, unknown> = {}, labels: Record<string, string> = { app: 'web' }) {
  return {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
      ...spec,
    },
  };
}

describe('deployments and replicasets', () => {
  it('accepts a minimal deployment', () => {
    expect(check('deployments', deployment(), undefined, 'apps')).toEqual([]);
  });

  it('requires the selector to match the template labels', () => {
    const errors = validateObject(resourceType('deployments', 'apps'), withDefaults(deployment({}, { app: 'db' })));
    expect(messages(errors)).toEqual([
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"db"}: `selector` does not match template `labels`',
    ]);
    // Go's rendering of the value rides along for a renderer that wants it.
    expect(errors[0]).toMatchObject({ goValue: 'map[string]string{"app":"db"}' });
  });

  it('requires a selector and a non-negative replica count', () => {
    expect(check('deployments', deployment({ selector: undefined, replicas: -1 }), undefined, 'apps')).toEqual([
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.selector: Required value',
    ]);
    expect(check('deployments', deployment({ selector: {} }), undefined, 'apps')).toEqual([
      'spec.selector: Invalid value: {}: empty selector is invalid for deployment',
    ]);
  });

  it('checks the strategy', () => {
    expect(check('deployments', deployment({ strategy: { type: 'Rolling' } }), undefined, 'apps')).toEqual([
      'spec.strategy: Unsupported value: {"type":"Rolling"}: supported values: "Recreate", "RollingUpdate"',
    ]);
    expect(
      check('deployments', deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } } }), undefined, 'apps'),
    ).toEqual(['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0']);
    expect(check('deployments', deployment({ strategy: { type: 'Recreate', rollingUpdate: {} } }), undefined, 'apps')).toEqual([
      "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ]);
  });

  it('requires restartPolicy Always in the template', () => {
    const spec = { template: { metadata: { labels: { app: 'web' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'web', image: 'x' }] } } };
    expect(check('replicasets', deployment(spec), undefined, 'apps')).toEqual([
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
  });

  it('keeps the selector on update', () => {
    const old = withDefaults(deployment());
    const updated = deployment({ selector: { matchLabels: { app: 'web2' } } }, { app: 'web2' });
    const errors = validateObject(resourceType('deployments', 'apps'), withDefaults(updated), old);
    expect(messages(errors)).toEqual(['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable']);
    expect(errors[0]).toMatchObject({
      goValue: 'v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}',
    });
    expect(check('deployments', deployment({ replicas: 5 }), old, 'apps')).toEqual([]);
  });
});

function withDefaults<T>(object: T): T {
  applyDefaults(resourceType('deployments', 'apps'), object);
  return object;
}

function service(spec: Record<string, unknown>) {
  return { metadata: { name: 'web', namespace: 'default' }, spec };
}

describe('services', () => {
  it('accepts ClusterIP, NodePort, LoadBalancer and ExternalName services', () => {
    expect(check('services', service({ ports: [{ port: 80 }] }))).toEqual([]);
    expect(check('services', service({ type: 'NodePort', ports: [{ port: 80, targetPort: 'http' }] }))).toEqual([]);
    expect(check('services', service({ type: 'LoadBalancer', ports: [{ port: 80 }] }))).toEqual([]);
    expect(check('services', service({ type: 'ExternalName', externalName: 'example.com' }))).toEqual([]);
  });

  it('requires ports unless headless or ExternalName', () => {
    expect(check('services', service({}))).toEqual(['spec.ports: Required value']);
    expect(check('services', service({ clusterIP: 'None', clusterIPs: ['None'] }))).toEqual([]);
  });

  it('checks port numbers, names, protocols and target ports', () => {
    expect(
      check('services', service({ ports: [{ port: 0 }, { name: 'http', port: 80, protocol: 'ICMP', targetPort: 'Bad_Name' }] })),
    ).toEqual([
      'spec.ports[0].name: Required value',
      'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
      'spec.ports[1].targetPort: Invalid value: "Bad_Name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    ]);
    expect(check('services', service({ ports: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] }))).toEqual([
      'spec.ports[1].name: Duplicate value: "a"',
    ]);
  });

  it('checks the type', () => {
    expect(check('services', service({ type: 'Internal', ports: [{ port: 80 }] }))).toEqual([
      'spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ]);
  });
});

describe('configmaps and secrets', () => {
  it('checks data keys', () => {
    expect(check('configmaps', { metadata: { name: 'cfg', namespace: 'default' }, data: { 'a/b': 'x', ok: 'y' } })).toEqual([
      `data[a/b]: Invalid value: "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
    ]);
    expect(check('secrets', { metadata: { name: 's', namespace: 'default' }, data: { '..x': 'eA==' } })).toEqual([
      'data[..x]: Invalid value: "..x": must not start with \'..\'',
    ]);
  });

  it('requires the keys of typed secrets', () => {
    expect(check('secrets', { metadata: { name: 's', namespace: 'default' }, type: 'kubernetes.io/tls', data: {} })).toEqual([
      'data[tls.crt]: Required value',
      'data[tls.key]: Required value',
    ]);
  });

  it('freezes immutable configmaps and secret types', () => {
    const old = { metadata: { name: 'cfg', namespace: 'default' }, immutable: true, data: { a: '1' } };
    expect(check('configmaps', { ...old, data: { a: '2' } }, old)).toEqual(['data: Forbidden: field is immutable when `immutable` is set']);
    const oldSecret = { metadata: { name: 's', namespace: 'default' }, type: 'Opaque' };
    expect(check('secrets', { ...oldSecret, type: 'kubernetes.io/basic-auth', data: { username: 'dQ==' } }, oldSecret)).toEqual([
      'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
    ]);
  });
});

describe('cluster-scoped and other kinds', () => {
  it('checks namespace finalizers', () => {
    expect(check('namespaces', { metadata: { name: 'a' }, spec: { finalizers: ['custom'] } })).toEqual([
      'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
    ]);
  });

  it('checks node taints and keeps podCIDRs', () => {
    expect(check('nodes', { metadata: { name: 'n1' }, spec: { taints: [{ key: 'k', effect: 'Sometimes' }] } })).toEqual([
      'metadata.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    ]);
    const old = { metadata: { name: 'n1' }, spec: { podCIDRs: ['10.0.0.0/24'] } };
    expect(check('nodes', { metadata: { name: 'n1' }, spec: { podCIDRs: ['10.0.1.0/24'], unschedulable: true } }, old)).toEqual([
      'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    ]);
  });

  it('caps user priority classes', () => {
    expect(check('priorityclasses', { metadata: { name: 'high' }, value: 2000000000 }, undefined, 'scheduling.k8s.io')).toEqual([
      'value: Forbidden: maximum allowed value of a user defined priority is 1000000000',
    ]);
    expect(check('priorityclasses', { metadata: { name: 'high' }, value: 1000000000 }, undefined, 'scheduling.k8s.io')).toEqual([]);
    const old = { metadata: { name: 'high' }, value: 10, preemptionPolicy: 'PreemptLowerPriority' };
    expect(check('priorityclasses', { metadata: { name: 'high' }, value: 11 }, old, 'scheduling.k8s.io')).toEqual([
      'value: Forbidden: may not be changed in an update.',
    ]);
  });

  it('checks leases, events, endpoints and endpoint slices', () => {
    expect(check('leases', { metadata: { name: 'l', namespace: 'kube-system' }, spec: { leaseDurationSeconds: 0 } }, undefined, 'coordination.k8s.io')).toEqual([
      'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    ]);
    expect(check('events', { metadata: { name: 'e', namespace: 'default' }, involvedObject: { namespace: 'other' } })).toEqual([
      'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    ]);
    expect(check('endpoints', { metadata: { name: 'web', namespace: 'default' }, subsets: [{ ports: [{ port: 80 }] }] })).toEqual([
      'subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`',
    ]);
    expect(check('endpointslices', { metadata: { name: 'web-1', namespace: 'default' }, addressType: 'IPv5' }, undefined, 'discovery.k8s.io')).toEqual([
      'addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"',
    ]);
    expect(check('serviceaccounts', { metadata: { name: 'default', namespace: 'default' } })).toEqual([]);
  });
});
