import type { Node } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { nodePrinter } from './node.js';

const NOW = new Date('2025-01-01T12:00:00Z');

function node(fields: { labels?: Record<string, string>; ready?: 'True' | 'False' | 'Unknown'; unschedulable?: boolean } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-1', creationTimestamp: '2024-12-27T08:00:00Z', labels: fields.labels ?? {} },
    spec: fields.unschedulable === undefined ? {} : { unschedulable: fields.unschedulable },
    status: {
      conditions: fields.ready === undefined ? [] : [{ type: 'Ready', status: fields.ready }],
      addresses: [
        { type: 'Hostname', address: 'node-1' },
        { type: 'InternalIP', address: '172.18.0.2' },
      ],
      nodeInfo: {
        architecture: 'amd64',
        bootID: '',
        containerRuntimeVersion: 'k8ts://0.1.0',
        kernelVersion: '6.1.0-18-amd64',
        kubeProxyVersion: '',
        kubeletVersion: 'v1.32.0',
        machineID: '',
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: '',
      },
    },
  };
}

describe('node table', () => {
  it('prints a ready control-plane node with wide columns', () => {
    const controlPlane = node({ ready: 'True', labels: { 'node-role.kubernetes.io/control-plane': '' } });
    expect(nodePrinter.cells(controlPlane, NOW)).toEqual([
      'node-1',
      'Ready',
      'control-plane',
      '5d4h',
      'v1.32.0',
      '172.18.0.2',
      '<none>',
      'Debian GNU/Linux 12 (bookworm)',
      '6.1.0-18-amd64',
      'k8ts://0.1.0',
    ]);
  });

  it.each([
    [{ ready: 'True' as const }, 'Ready'],
    [{ ready: 'False' as const }, 'NotReady'],
    [{ ready: 'Unknown' as const }, 'NotReady'],
    [{}, 'Unknown'],
    [{ ready: 'True' as const, unschedulable: true }, 'Ready,SchedulingDisabled'],
    [{ unschedulable: true }, 'Unknown,SchedulingDisabled'],
  ])('status of %o is %s', (fields, expected) => {
    expect(nodePrinter.cells(node(fields), NOW)[1]).toBe(expected);
  });

  it('collects sorted roles from both role labels, or <none>', () => {
    const labels = {
      'node-role.kubernetes.io/worker': '',
      'node-role.kubernetes.io/control-plane': '',
      'node-role.kubernetes.io/': 'ignored',
      'kubernetes.io/role': 'ingress',
    };
    expect(nodePrinter.cells(node({ labels }), NOW)[2]).toBe('control-plane,ingress,worker');
    expect(nodePrinter.cells(node(), NOW)[2]).toBe('<none>');
  });

  it('prints <unknown> for missing node info', () => {
    const bare: Node = { metadata: { name: 'bare' } };
    expect(nodePrinter.cells(bare, NOW)).toEqual(['bare', 'Unknown', '<none>', '<unknown>', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  });
});
