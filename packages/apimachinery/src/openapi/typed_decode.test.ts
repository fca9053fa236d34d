import { describe, expect, test } from 'vitest';
import { UNKNOWN_FIELDS_MAX, unknownFields } from './field_validation.js';
import { decodeAsTyped, TypedDecodeError } from './typed_decode.js';

const pod = { group: '', version: 'v1', kind: 'Pod' };
const service = { group: '', version: 'v1', kind: 'Service' };
const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };

const refusal = (type: typeof pod, object: unknown): string => {
  try {
    decodeAsTyped(type, object);
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
};

describe('decodeAsTyped: a body read as Go decodes it into the kind', () => {
  test("a value of the wrong JSON type is refused with Go's words: innermost struct, full path, Go type", () => {
    expect(refusal(service, { spec: 0 })).toBe('json: cannot unmarshal number into Go struct field Service.spec of type v1.ServiceSpec');
    expect(refusal(pod, { spec: { containers: {} } })).toBe('json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container');
    expect(refusal(pod, { spec: { containers: [{ name: 'a', image: 5 }] } })).toBe('json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string');
    expect(refusal(deployment, { spec: { replicas: '3' } })).toBe('json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
    expect(refusal(deployment, { spec: { replicas: 1.5 } })).toBe('json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32');
    expect(refusal(pod, { metadata: { labels: [] } })).toBe('json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string');
    expect(refusal(pod, { metadata: { labels: { a: 1 } } })).toBe('json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string');
  });

  test('int-or-string and quantities take either; free-form JSON is left alone', () => {
    const ok = { spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }], resources: { limits: { cpu: 1, memory: '1Gi' } } }] } };
    expect(refusal(pod, ok)).toBe('accepted');
    expect(refusal(service, { spec: { ports: [{ port: 80, targetPort: 'http' }] } })).toBe('accepted');
    expect(refusal(deployment, { spec: { paused: true, replicas: 2, template: { spec: { hostNetwork: false } } } })).toBe('accepted');
    expect(refusal(deployment, { spec: { paused: 'yes' } })).toBe('json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool');
    expect(refusal(deployment, { spec: { replicas: true } })).toBe('json: cannot unmarshal bool into Go struct field DeploymentSpec.spec.replicas of type int32');
    expect(refusal(service, { spec: { ports: [{ port: 80, targetPort: 8080 }] } })).toBe('accepted');
    expect(refusal(pod, { metadata: { managedFields: [{ fieldsV1: { 'f:x': { '.': {} } } }] } })).toBe('accepted');
  });

  test('null leaves a field at its zero value (removed); in a list or map it is the zero value', () => {
    const object = { spec: null, metadata: { name: 'x', labels: { a: null } } } as Record<string, unknown>;
    decodeAsTyped(deployment, object);
    expect(object).toEqual({ metadata: { name: 'x', labels: { a: '' } } });
  });

  test('unknown fields stay unless asked to drop them, at any depth', () => {
    const body = () => ({ metadata: { name: 'x', extra: 1 }, spec: { containers: [{ name: 'a', deep: [[[1]]] }] }, top: true });
    const kept = body();
    decodeAsTyped(pod, kept);
    expect(kept).toEqual(body());
    const dropped = body();
    decodeAsTyped(pod, dropped, { dropUnknownFields: true });
    expect(dropped).toEqual({ metadata: { name: 'x' }, spec: { containers: [{ name: 'a' }] } });
  });
});

describe('decodeAsTyped names the unknown fields in the same walk', () => {
  test('one call yields the typed, pruned object and the unknown field paths, as unknownFields writes them', () => {
    const body = (): Record<string, unknown> => ({
      metadata: { name: 'x', labels: { a: null }, extra: 1 },
      spec: { nodeName: null, containers: [{ name: 'a', deep: [[1]], ports: [{ containerPort: 80, hostPortt: 1 }] }, null] },
      top: true,
    });
    const object = body();
    const result = decodeAsTyped(pod, object, { dropUnknownFields: true });
    expect(object).toEqual({ metadata: { name: 'x', labels: { a: '' } }, spec: { containers: [{ name: 'a', ports: [{ containerPort: 80 }] }, {}] } });
    expect(result.unknownFields).toEqual(['metadata.extra', 'spec.containers[0].deep', 'spec.containers[0].ports[0].hostPortt', 'top']);
    expect(result.unknownFields).toEqual(unknownFields(pod, body()));
    // Kept when not dropping: the paths are the same.
    expect(decodeAsTyped(pod, body()).unknownFields).toEqual(result.unknownFields);
  });

  test('at most UNKNOWN_FIELDS_MAX paths, the first in document order, as unknownFields', () => {
    const many = Object.fromEntries(Array.from({ length: UNKNOWN_FIELDS_MAX + 20 }, (_, i) => [`extra${i}`, i]));
    const body = (): Record<string, unknown> => ({ metadata: { name: 'x', ...many }, spec: { containers: [{ name: 'a', ...many }] } });
    const result = decodeAsTyped(pod, body(), { dropUnknownFields: true });
    expect(result.unknownFields).toHaveLength(UNKNOWN_FIELDS_MAX);
    expect(result.unknownFields).toEqual(unknownFields(pod, body()));
  });

  test('a value of the wrong type: the error carries the unknown fields of the whole body; what follows it is left as sent', () => {
    const object = { metadata: { name: 'x', extra: 1 }, spec: { replicas: 'three', paused: null, unknownAfter: true }, later: 1 } as Record<string, unknown>;
    let caught: unknown;
    try {
      decodeAsTyped(deployment, object, { dropUnknownFields: true });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TypedDecodeError);
    expect((caught as TypedDecodeError).message).toBe('json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
    expect((caught as TypedDecodeError).unknownFields).toEqual(['metadata.extra', 'spec.unknownAfter', 'later']);
    // Pruned up to the error, as Go's decoder had got; untouched after it.
    expect(object).toEqual({ metadata: { name: 'x' }, spec: { replicas: 'three', paused: null, unknownAfter: true }, later: 1 });
  });
});
