import { describe, expect, test } from 'vitest';
import { defaultNodeLabels, goArch, parseNodeLabels, parseTaints } from './labels.js';

describe('node labels', () => {
  test("the kubelet's own: hostname, os, arch in Go's words, and the beta twins", () => {
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
    expect(defaultNodeLabels('n1', 'linux', 'amd64')).toEqual({
      'kubernetes.io/hostname': 'n1',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': 'amd64',
    });
  });

  test('--node-labels: zone, region, own prefixes and node.kubernetes.io are allowed', () => {
    expect(parseNodeLabels('topology.kubernetes.io/zone=z1,topology.kubernetes.io/region=r1,team=a,node.kubernetes.io/pool=x')).toEqual({
      'topology.kubernetes.io/zone': 'z1',
      'topology.kubernetes.io/region': 'r1',
      team: 'a',
      'node.kubernetes.io/pool': 'x',
    });
    expect(parseNodeLabels('')).toEqual({});
  });

  test('--node-labels: kubernetes.io labels the kubelet may not set, and bad syntax, are refused', () => {
    expect(() => parseNodeLabels('node-role.kubernetes.io/master=')).toThrow("unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [node-role.kubernetes.io/master]");
    expect(() => parseNodeLabels('team')).toThrow('invalid label "team": takes key=value');
    expect(() => parseNodeLabels('a=b c')).toThrow('invalid label value "b c"');
    expect(() => parseNodeLabels('-a=b')).toThrow('invalid label key "-a"');
  });
});

describe('--register-with-taints', () => {
  test('key=value:Effect and key:Effect', () => {
    expect(parseTaints('dedicated=gpu:NoSchedule,spot:PreferNoSchedule')).toEqual([
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'spot', effect: 'PreferNoSchedule' },
    ]);
  });
  test('bad specs are refused', () => {
    expect(() => parseTaints('dedicated=gpu')).toThrow('invalid taint spec: dedicated=gpu');
    expect(() => parseTaints('a:Sometimes')).toThrow('invalid taint effect: Sometimes');
    expect(() => parseTaints('a:NoSchedule,a=b:NoSchedule')).toThrow('duplicated taints with the same key and effect: a:NoSchedule');
  });
});
