import { describe, expect, it } from 'vitest';
import { findKind } from '../resources.js';
import { strictDecodingMessage, UNKNOWN_FIELDS_MAX, unknownFields, unknownFieldWarning } from './field_validation.js';

function typeOf(apiVersion: string, kind: string) {
  const type = findKind(apiVersion, kind);
  if (type === undefined) throw new Error(`test setup: ${apiVersion} ${kind} is not served`);
  return type;
}

const pod = typeOf('v1', 'Pod');
const deployment = typeOf('apps/v1', 'Deployment');

/** A pod that uses maps, quantities, int-or-string ports, nested lists and free-form managedFields. */
function validPod(): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web',
      labels: { app: 'web' },
      annotations: { note: 'x' },
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:anything': {} } } }],
    },
    spec: {
      containers: [
        {
          name: 'nginx',
          image: 'nginx',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: 0.5 } },
          livenessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
        },
      ],
      nodeSelector: { disk: 'ssd' },
      tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
    },
    status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] },
  };
}

describe('unknownFields', () => {
  it('accepts every field a valid pod uses, including free-form managedFields', () => {
    expect(unknownFields(pod, validPod())).toEqual([]);
  });

  it('names unknown fields at the top, in nested objects and in list items, in document order', () => {
    const object = validPod();
    object['extra'] = true;
    const spec = object['spec'] as { containers: Record<string, unknown>[]; [key: string]: unknown };
    spec['restartPolicyy'] = 'Always';
    const container = spec.containers[0] as Record<string, unknown>;
    container['imagePullPolicyy'] = 'Always';
    (container['ports'] as Record<string, unknown>[])[0] = { containerPort: 80, hostPortt: 8080 };
    expect(unknownFields(pod, object)).toEqual([
      'spec.containers[0].ports[0].hostPortt',
      'spec.containers[0].imagePullPolicyy',
      'spec.restartPolicyy',
      'extra',
    ]);
  });

  it('follows references into other groups: a Deployment template is a core PodSpec', () => {
    const object = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnaivailable: '25%' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i', foo: 1 }] } },
      },
    };
    expect(unknownFields(deployment, object)).toEqual([
      'spec.strategy.rollingUpdate.maxUnaivailable',
      'spec.template.spec.containers[0].foo',
    ]);
  });

  it('does not look inside values of the wrong type, null or primitives', () => {
    expect(unknownFields(pod, { metadata: null, spec: 'text', status: [1, 2] })).toEqual([]);
  });

  it('stops after the decoder limit', () => {
    const object = Object.fromEntries(Array.from({ length: 150 }, (_, index) => [`field${index}`, index]));
    const found = unknownFields(pod, object);
    expect(found).toHaveLength(UNKNOWN_FIELDS_MAX);
    expect(found[0]).toBe('field0');
  });

  it('does not take inherited object members for declared fields', () => {
    expect(unknownFields(pod, JSON.parse('{"constructor": 1, "toString": 2}'))).toEqual(['constructor', 'toString']);
  });

  it('refuses a kind with no schema rather than accepting everything', () => {
    expect(() => unknownFields({ group: 'example.com', version: 'v1', kind: 'Widget' }, {})).toThrow(/no schema/);
  });
});

describe('messages', () => {
  it("match kube-apiserver's strict decoding error and warning", () => {
    expect(strictDecodingMessage(['spec.foo', 'spec.containers[0].bar'])).toBe(
      'strict decoding error: unknown field "spec.foo", unknown field "spec.containers[0].bar"',
    );
    expect(unknownFieldWarning('spec.foo')).toBe('unknown field "spec.foo"');
  });
});
