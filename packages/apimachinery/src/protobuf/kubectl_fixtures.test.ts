/**
 * Request bodies captured from kubectl v1.32.4 (`<command> --dry-run=server`, recorded by a throwaway
 * HTTP server), each with the object the same command prints with `--dry-run=client -o json`: the JSON
 * kubectl would have sent. The binary file used below holds the bytes "bin\0\x01\x02\xff\xfe\x80data".
 */
import { describe, expect, it } from 'vitest';
import { decodeKubernetesProtobuf } from './index.js';

interface Capture {
  readonly command: string;
  readonly hex: string;
  readonly expected: Record<string, unknown>;
}

function bytesOf(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

const CAPTURES: readonly Capture[] = [
  {
    command: 'kubectl create namespace demo',
    hex:
      '6b3873000a0f0a02763112094e616d657370616365121c0a140a0464656d6f12001a0022002a0032003800420012001a' +
      '020a001a002200',
    expected: { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'demo', creationTimestamp: null }, spec: {}, status: {} },
  },
  {
    command: 'kubectl create configmap cfg --from-literal=a=1 --from-literal=b=two',
    hex:
      '6b3873000a0f0a0276311209436f6e6669674d617012270a130a0363666712001a0022002a0032003800420012060a01' +
      '6112013112080a0162120374776f1a002200',
    expected: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cfg', creationTimestamp: null }, data: { a: '1', b: 'two' } },
  },
  {
    command: 'kubectl create configmap files --from-file=blob.bin=./blob.bin --from-file=./hello.txt',
    hex:
      '6b3873000a0f0a0276311209436f6e6669674d6170124d0a150a0566696c657312001a0022002a003200380042001219' +
      '0a0968656c6c6f2e747874120c68656c6c6f0a776f726c640a1a190a08626c6f622e62696e120d62696e000102fffe80' +
      '646174611a002200',
    expected: {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'files', creationTimestamp: null },
      data: { 'hello.txt': 'hello\nworld\n' },
      binaryData: { 'blob.bin': 'YmluAAEC//6AZGF0YQ==' },
    },
  },
  {
    command: "kubectl create secret generic creds --from-literal=user=admin --from-literal=pass='s3cr3t!' --from-file=blob.bin=./blob.bin",
    hex:
      '6b3873000a0c0a027631120653656372657412540a150a05637265647312001a0022002a0032003800420012190a0862' +
      '6c6f622e62696e120d62696e000102fffe8064617461120f0a0470617373120773336372337421120d0a047573657212' +
      '0561646d696e1a001a002200',
    expected: {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 'creds', creationTimestamp: null },
      data: { 'blob.bin': 'YmluAAEC//6AZGF0YQ==', pass: 'czNjcjN0IQ==', user: 'YWRtaW4=' },
    },
  },
  {
    command: 'kubectl create deployment web --image=nginx:1.27 --replicas=2 --port=80',
    hex:
      '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412bd010a1f0a0377656212001a0022002a00320038' +
      '0042005a0a0a036170701203776562128b010802120c0a0a0a0361707012037765621a710a1c0a0012001a0022002a00' +
      '3200380042005a0a0a036170701203776562125112330a056e67696e78120a6e67696e783a312e32372a00320a0a0010' +
      '00185022002a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a' +
      '0100c2010022020a00280038001a0c0800100018002000280038001a002200',
    expected: {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'web', creationTimestamp: null, labels: { app: 'web' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: 'web' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    },
  },
  {
    command: 'kubectl create service clusterip web --tcp=80:8080',
    hex:
      '6b3873000a0d0a02763112075365727669636512690a1f0a0377656212001a0022002a003200380042005a0a0a036170' +
      '70120377656212420a1b0a0738302d38303830120354435018502207080010903f1a002800120a0a0361707012037765' +
      '621a002209436c757374657249503a00420052005a00600068001a020a001a002200',
    expected: {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'web', creationTimestamp: null, labels: { app: 'web' } },
      spec: { ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }], selector: { app: 'web' }, type: 'ClusterIP' },
      status: { loadBalancer: {} },
    },
  },
  {
    command: 'kubectl create service nodeport np --tcp=8080:http --node-port=30080',
    hex:
      '6b3873000a0d0a027631120753657276696365126d0a1d0a026e7012001a0022002a003200380042005a090a03617070' +
      '12026e7012480a230a09383038302d68747470120354435018903f220a080110001a04687474702880eb0112090a0361' +
      '707012026e701a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200',
    expected: {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'np', creationTimestamp: null, labels: { app: 'np' } },
      spec: {
        ports: [{ name: '8080-http', protocol: 'TCP', port: 8080, targetPort: 'http', nodePort: 30080 }],
        selector: { app: 'np' },
        type: 'NodePort',
      },
      status: { loadBalancer: {} },
    },
  },
  {
    command: 'kubectl create serviceaccount bot',
    hex: '6b3873000a140a027631120e536572766963654163636f756e7412150a130a03626f7412001a0022002a003200380042001a002200',
    expected: { kind: 'ServiceAccount', apiVersion: 'v1', metadata: { name: 'bot', creationTimestamp: null } },
  },
  {
    command: 'kubectl create priorityclass high --value=1000 --description="high priority" --preemption-policy=Never',
    hex:
      '6b3873000a250a147363686564756c696e672e6b38732e696f2f7631120d5072696f72697479436c61737312310a140a' +
      '046869676812001a0022002a0032003800420010e8071800220d68696768207072696f726974792a054e657665721a00' +
      '2200',
    expected: {
      kind: 'PriorityClass',
      apiVersion: 'scheduling.k8s.io/v1',
      metadata: { name: 'high', creationTimestamp: null },
      value: 1000,
      description: 'high priority',
      preemptionPolicy: 'Never',
    },
  },
];

describe('bodies sent by kubectl create', () => {
  it.each(CAPTURES)('$command', ({ hex, expected }) => {
    const decoded = decodeKubernetesProtobuf(bytesOf(hex));
    expect(decoded.object).toStrictEqual(expected);
    expect(decoded.apiVersion).toBe(expected['apiVersion']);
    expect(decoded.kind).toBe(expected['kind']);
    expect(decoded.unknownFields).toEqual([]);
  });

  it('sees a changed byte: replicas 2 → 3 in the deployment body', () => {
    const body = bytesOf(CAPTURES[4]?.hex ?? '');
    const at = body.findIndex((byte, index) => byte === 0x08 && body[index + 1] === 0x02 && body[index + 2] === 0x12);
    body[at + 1] = 0x03;
    expect(decodeKubernetesProtobuf(body).object).toMatchObject({ spec: { replicas: 3 } });
  });

  it('rejects every truncation of a captured body that cuts a field', () => {
    const body = bytesOf(CAPTURES[4]?.hex ?? '');
    // Cuts between envelope fields are valid protobuf: after typeMeta (an empty Deployment) and after raw.
    const typeMetaEnd = 4 + 2 + (body[5] ?? 0);
    const rawEnd = body.length - 4; // contentEncoding and contentType follow, both empty: 1a 00 22 00
    for (let length = 0; length < rawEnd; length++) {
      if (length === typeMetaEnd) continue;
      const decode = (): unknown => decodeKubernetesProtobuf(body.subarray(0, length));
      expect(decode, `length ${length}`).toThrow(/protobuf: (truncated|body does not start|no protobuf decoding)/);
    }
  });
});
