import { describe, expect, it } from 'vitest';
import { decodeKubernetesProtobuf, decodeProtobufMessage, ProtobufDecodeError } from './index.js';

// A tiny protobuf writer for building bodies by hand. Every helper returns the bytes of one field.
type Bytes = number[];
function varint(value: bigint | number): Bytes {
  let rest = BigInt.asUintN(64, BigInt(value));
  const out: Bytes = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  return [...out, Number(rest)];
}
const tag = (field: number, wireType: number): Bytes => varint(field * 8 + wireType);
const int = (field: number, value: bigint | number): Bytes => [...tag(field, 0), ...varint(value)];
const raw = (field: number, payload: Bytes): Bytes => [...tag(field, 2), ...varint(payload.length), ...payload];
const str = (field: number, text: string): Bytes => raw(field, [...new TextEncoder().encode(text)]);
const msg = (field: number, ...parts: Bytes[]): Bytes => raw(field, parts.flat());
const entry = (field: number, key: string, value: Bytes): Bytes => msg(field, str(1, key), value);
const body = (apiVersion: string, kind: string, ...parts: Bytes[]): Uint8Array =>
  Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...msg(1, str(1, apiVersion), str(2, kind)), ...msg(2, ...parts), ...str(3, ''), ...str(4, '')]);
const metadata = (name: string, ...more: Bytes[]): Bytes => msg(1, str(1, name), ...more);
const SECONDS_2023_11_14 = 1_700_000_000; // 2023-11-14T22:13:20Z

describe('decodeKubernetesProtobuf', () => {
  it('decodes a pod with the fields kubectl run and manifests use', () => {
    const container = msg(
      2,
      str(1, 'app'),
      str(2, 'nginx:1.27'),
      str(3, 'sh'),
      str(3, '-c'),
      str(4, 'nginx -g "daemon off;"'),
      msg(6, int(3, 8080), str(4, 'TCP')),
      msg(7, str(1, 'MODE'), str(2, 'prod')),
      msg(7, str(1, 'POD'), msg(3, msg(1, str(2, 'metadata.name')))),
      msg(7, str(1, 'TOKEN'), msg(3, msg(4, msg(1, str(1, 'creds')), str(2, 'token'), int(3, 0)))),
      msg(8, entry(1, 'cpu', msg(2, str(1, '500m'))), entry(2, 'memory', msg(2, str(1, '64Mi')))),
      msg(9, str(1, 'config'), str(3, '/etc/app'), int(2, 1)),
      msg(10, msg(1, msg(2, str(1, '/healthz'), msg(2, int(1, 1), str(3, 'http')))), int(4, 10)),
      msg(15, int(4, 0), int(5, 1)),
    );
    const spec = msg(
      2,
      msg(1, str(1, 'config'), msg(2, msg(19, msg(1, str(1, 'app-config')), int(3, 420)))),
      msg(1, str(1, 'scratch'), msg(2, msg(2, msg(2, str(1, '1Gi'))))),
      msg(1, str(1, 'logs'), msg(2, msg(1, str(1, '/var/log'), str(2, 'Directory')))),
      container,
      str(3, 'Never'),
      int(4, 30),
      entry(7, 'disk', str(2, 'ssd')),
      str(8, 'robot'),
      int(11, 0), // hostNetwork=false: omitempty, so not in the JSON
      msg(22, str(1, 'dedicated'), str(2, 'Exists'), str(4, 'NoSchedule'), int(5, 300)),
      msg(18, msg(1, msg(1, msg(1, msg(1, str(1, 'zone'), str(2, 'In'), str(3, 'a'), str(3, 'b')))))),
    );
    const decoded = decodeKubernetesProtobuf(body('v1', 'Pod', metadata('web', str(3, 'prod'), msg(8, int(1, SECONDS_2023_11_14), int(2, 5))), spec));
    expect(decoded.unknownFields).toEqual([]);
    expect(decoded.object).toStrictEqual({
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: 'web', namespace: 'prod', creationTimestamp: '2023-11-14T22:13:20Z' },
      spec: {
        volumes: [
          { name: 'config', configMap: { name: 'app-config', defaultMode: 420 } },
          { name: 'scratch', emptyDir: { sizeLimit: '1Gi' } },
          { name: 'logs', hostPath: { path: '/var/log', type: 'Directory' } },
        ],
        containers: [
          {
            name: 'app',
            image: 'nginx:1.27',
            command: ['sh', '-c'],
            args: ['nginx -g "daemon off;"'],
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
            env: [
              { name: 'MODE', value: 'prod' },
              { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token', optional: false } } },
            ],
            resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } },
            volumeMounts: [{ name: 'config', readOnly: true, mountPath: '/etc/app' }],
            livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
            securityContext: { runAsUser: 0, runAsNonRoot: true },
          },
        ],
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 30,
        nodeSelector: { disk: 'ssd' },
        serviceAccountName: 'robot',
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] },
          },
        },
        tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 300 }],
      },
      status: {},
    });
  });

  it('writes owner references and managed fields as JSON does', () => {
    const owner = msg(13, str(5, 'apps/v1'), str(1, 'ReplicaSet'), str(3, 'web-1'), str(4, 'uid-1'), int(6, 1), int(7, 0));
    const managed = msg(17, str(1, 'kubectl'), str(2, 'Update'), str(3, 'v1'), msg(4, int(1, SECONDS_2023_11_14)), str(6, 'FieldsV1'), msg(7, str(1, '{"f:data":{"f:a":{}}}')));
    const { object } = decodeKubernetesProtobuf(body('v1', 'ConfigMap', metadata('cfg', owner, managed, int(10, 0), int(7, 0), str(14, 'x/y'))));
    expect(object['metadata']).toStrictEqual({
      name: 'cfg',
      creationTimestamp: null,
      deletionGracePeriodSeconds: 0, // a pointer: sent, so written even though zero
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'uid-1', controller: true, blockOwnerDeletion: false }],
      finalizers: ['x/y'],
      managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2023-11-14T22:13:20Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }],
    });
  });

  it('writes the zero values of fields Go always encodes', () => {
    const { object } = decodeKubernetesProtobuf(body('v1', 'Event'));
    expect(object).toStrictEqual({
      kind: 'Event',
      apiVersion: 'v1',
      metadata: { creationTimestamp: null },
      involvedObject: {},
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      eventTime: null,
      reportingComponent: '',
      reportingInstance: '',
    });
    expect(decodeProtobufMessage(Uint8Array.from(str(1, 'x')), 'core.HTTPGetAction').object).toStrictEqual({ path: 'x', port: 0 });
    expect(decodeProtobufMessage(new Uint8Array(), 'core.NodeSelector').object).toStrictEqual({ nodeSelectorTerms: null });
    expect(decodeProtobufMessage(new Uint8Array(), 'core.ResourceFieldSelector').object).toStrictEqual({ resource: '', divisor: '0' });
  });

  it('decodes lease MicroTimes, negative numbers and both repeated encodings', () => {
    const lease = decodeKubernetesProtobuf(body('coordination.k8s.io/v1', 'Lease', metadata('node-1'), msg(2, str(1, ''), int(2, 40), msg(4, int(1, SECONDS_2023_11_14), int(2, 123_456_789)))));
    expect(lease.object['spec']).toStrictEqual({ holderIdentity: '', leaseDurationSeconds: 40, renewTime: '2023-11-14T22:13:20.123456Z' });

    const priority = decodeKubernetesProtobuf(body('scheduling.k8s.io/v1', 'PriorityClass', metadata('low'), int(2, -5)));
    expect(priority.object['value']).toBe(-5);

    const packed = msg(14, raw(4, [...varint(1000), ...varint(-1)]));
    const unpacked = msg(14, int(4, 1000), int(4, -1));
    for (const securityContext of [packed, unpacked]) {
      const { object } = decodeProtobufMessage(Uint8Array.from([...securityContext, ...int(5, -1)]), 'core.PodSpec');
      expect(object).toMatchObject({ securityContext: { supplementalGroups: [1000, -1] }, activeDeadlineSeconds: -1 });
    }
  });

  it('skips unknown field numbers and reports where they were', () => {
    const spec = msg(2, msg(2, str(1, 'app'), str(99, 'future'), int(98, 1)), msg(1, str(1, 'v'), msg(2, int(77, 3))));
    const decoded = decodeKubernetesProtobuf(body('v1', 'Pod', metadata('p'), spec, raw(1000, [1, 2, 3])));
    expect(decoded.unknownFields).toEqual(['#1000', 'spec.volumes[0].#77', 'spec.containers[0].#99', 'spec.containers[0].#98']);
    expect(decoded.object['spec']).toStrictEqual({ volumes: [{ name: 'v' }], containers: [{ name: 'app', resources: {} }] });
  });

  it('merges a message field sent twice, as protobuf does', () => {
    const { object } = decodeProtobufMessage(Uint8Array.from([...msg(1, str(1, 'a')), ...msg(1, str(3, 'ns'))]), 'core.ConfigMap');
    expect(object['metadata']).toStrictEqual({ name: 'a', namespace: 'ns', creationTimestamp: null });
  });

  it.each([
    ['no magic', Uint8Array.from([0x7b, 0x7d]), /does not start with the Kubernetes protobuf magic/],
    ['an unknown kind', body('batch/v1', 'Job'), /no protobuf decoding for apiVersion "batch\/v1" kind "Job"/],
    ['a compressed body', Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...msg(1, str(1, 'v1'), str(2, 'Pod')), ...str(3, 'gzip')]), /unsupported content encoding "gzip"/],
    ['metadata sent as a number', body('v1', 'Pod', int(1, 3)), /metadata \(field 1 of core.Pod\) has wire type 0, want 2/],
    ['an IntOrString of type 2', body('v1', 'Service', msg(2, msg(1, msg(4, int(1, 2))))), /spec.ports\[0\].targetPort: IntOrString type 2/],
    ['managed fields that are not JSON', body('v1', 'Pod', metadata('p', msg(17, msg(7, str(1, 'nope'))))), /metadata.managedFields\[0\].fieldsV1: embedded raw bytes are not JSON/],
    ['a length beyond the end', Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x12, 0x05, 0x0a]), /truncated length-delimited field/],
    ['an unterminated varint', Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x08, 0xff]), /truncated varint/],
  ])('rejects %s', (_name, input, message) => {
    expect(() => decodeKubernetesProtobuf(input)).toThrow(ProtobufDecodeError);
    expect(() => decodeKubernetesProtobuf(input)).toThrow(message);
  });
});
