import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { QUARANTINE_MS, quarantineMissingNodes, terminatedPodsToDelete, terminatingOnOutOfServiceNodes, unscheduledTerminating } from './rules.js';

function pod(name: string, fields: { phase?: string; reason?: string; created?: string; node?: string; deleting?: boolean } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      creationTimestamp: fields.created ?? '2025-01-01T00:00:00Z',
      ...(fields.deleting ? { deletionTimestamp: '2025-01-01T01:00:00Z' } : {}),
    },
    spec: { containers: [], ...(fields.node ? { nodeName: fields.node } : {}) },
    status: { ...(fields.phase ? { phase: fields.phase } : {}), ...(fields.reason ? { reason: fields.reason } : {}) },
  };
}
const names = (pods: Pod[]): string[] => pods.map((p) => p.metadata?.name ?? '');

describe('terminatedPodsToDelete', () => {
  it('deletes the terminated pods beyond the threshold: evicted first, then oldest, then by name', () => {
    const pods = [
      pod('a-new', { phase: 'Succeeded', created: '2025-01-01T00:00:09Z' }),
      pod('z-old', { phase: 'Failed', created: '2025-01-01T00:00:01Z' }),
      pod('b-new', { phase: 'Succeeded', created: '2025-01-01T00:00:09Z' }),
      pod('y-evicted', { phase: 'Failed', reason: 'Evicted', created: '2025-01-01T00:00:10Z' }),
      pod('running', { phase: 'Running', created: '2025-01-01T00:00:00Z' }),
      pod('pending', { phase: 'Pending' }),
      pod('unknown', { phase: 'Unknown' }),
    ];
    expect(names(terminatedPodsToDelete(pods, 1))).toEqual(['y-evicted', 'z-old', 'a-new']);
    expect(names(terminatedPodsToDelete(pods, 4))).toEqual([]);
    expect(names(terminatedPodsToDelete(pods, 0))).toEqual([]); // 0 turns it off
  });

  it('counts a pod with no phase as terminated, as upstream does', () => {
    expect(names(terminatedPodsToDelete([pod('blank'), pod('done', { phase: 'Succeeded' })], 1))).toEqual(['blank']);
  });
});

describe('terminatingOnOutOfServiceNodes', () => {
  const node = (name: string, ready: string, outOfService: boolean): Node => ({
    metadata: { name },
    spec: outOfService ? { taints: [{ key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' }] } : {},
    status: { conditions: [{ type: 'Ready', status: ready }] },
  });
  const nodes = new Map([
    ['down', node('down', 'Unknown', true)],
    ['down-untainted', node('down-untainted', 'Unknown', false)],
    ['up-tainted', node('up-tainted', 'True', true)],
  ]);

  it('picks terminating pods on not-ready nodes tainted out-of-service only', () => {
    const pods = [
      pod('gone', { node: 'down', deleting: true }),
      pod('running-there', { node: 'down' }),
      pod('waiting', { node: 'down-untainted', deleting: true }),
      pod('healthy', { node: 'up-tainted', deleting: true }),
      pod('nodeless', { node: 'missing', deleting: true }),
    ];
    expect(names(terminatingOnOutOfServiceNodes(pods, (name) => nodes.get(name)))).toEqual(['gone']);
  });
});

describe('unscheduledTerminating', () => {
  it('picks terminating pods without a node', () => {
    expect(names(unscheduledTerminating([pod('a', { deleting: true }), pod('b', { deleting: true, node: 'n' }), pod('c')]))).toEqual(['a']);
  });
});

describe('quarantineMissingNodes', () => {
  it('checks a missing node only after it has been missing for the quarantine', () => {
    const quarantine = new Map<string, number>();
    const pods = [pod('orphan', { node: 'gone' }), pod('fine', { node: 'here' })];
    const exists = (name: string): boolean => name === 'here';
    expect(quarantineMissingNodes(quarantine, pods, exists, 0)).toEqual([]);
    expect(quarantineMissingNodes(quarantine, pods, exists, QUARANTINE_MS - 1)).toEqual([]);
    expect(quarantineMissingNodes(quarantine, pods, exists, QUARANTINE_MS)).toEqual(['gone']);
    // Checked: it starts over if pods still name it.
    expect(quarantineMissingNodes(quarantine, pods, exists, QUARANTINE_MS + 1)).toEqual([]);
  });

  it('lets go of a node that shows up again or that no pod names any more', () => {
    const quarantine = new Map<string, number>();
    quarantineMissingNodes(quarantine, [pod('p', { node: 'late' }), pod('q', { node: 'gone' })], () => false, 0);
    expect(quarantineMissingNodes(quarantine, [pod('p', { node: 'late' })], (name) => name === 'late', QUARANTINE_MS)).toEqual([]);
    expect(quarantine.size).toBe(0);
  });
});
