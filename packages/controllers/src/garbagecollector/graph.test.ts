import type { KubeObject } from '@k8ts/client';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { beforeEach, describe, expect, test } from 'vitest';
import { DependencyGraph } from './graph.js';
import type { ObjectIdentity } from './identity.js';

const CONFIGMAP = { apiVersion: 'v1', kind: 'ConfigMap' };
const NODE = { apiVersion: 'v1', kind: 'Node' };

function ref(uid: string, options: Partial<OwnerReference> = {}): OwnerReference {
  return { apiVersion: 'v1', kind: 'ConfigMap', name: `cm-${uid}`, uid, ...options };
}

function cm(uid: string, owners: OwnerReference[] = [], metadata: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: `cm-${uid}`, namespace: 'ns', uid, ownerReferences: owners, ...metadata } };
}

function identity(uid: string, namespace = 'ns'): ObjectIdentity {
  return { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: `cm-${uid}`, uid };
}

let toDelete: string[];
let toOrphan: string[];
let invalid: string[];
let graph: DependencyGraph;

beforeEach(() => {
  toDelete = [];
  toOrphan = [];
  invalid = [];
  graph = new DependencyGraph(
    {
      attemptToDelete: (uid) => toDelete.push(uid),
      attemptToOrphan: (uid) => toOrphan.push(uid),
      invalidNamespaceOwnerRef: (dependent, reference) => invalid.push(`${dependent.uid}->${reference.uid}`),
    },
    (_apiVersion, kind) => (kind === 'Node' ? false : kind === 'ConfigMap' ? true : undefined),
  );
});

const dependentsOf = (uid: string): string[] => [...(graph.get(uid)?.dependents ?? [])].map((node) => node.identity.uid).sort();

describe('owners and dependents', () => {
  test('an observed owner lists the objects that reference it', () => {
    graph.observe(CONFIGMAP, cm('owner'));
    graph.observe(CONFIGMAP, cm('a', [ref('owner')]));
    graph.observe(CONFIGMAP, cm('b', [ref('owner')]));
    expect(dependentsOf('owner')).toEqual(['a', 'b']);
    expect(graph.get('a')?.owners.map((owner) => owner.uid)).toEqual(['owner']);
    expect(toDelete).toEqual([]);
  });

  test('an object with two owners is a dependent of both', () => {
    graph.observe(CONFIGMAP, cm('o1'));
    graph.observe(CONFIGMAP, cm('o2'));
    graph.observe(CONFIGMAP, cm('d', [ref('o1'), ref('o2')]));
    expect(dependentsOf('o1')).toEqual(['d']);
    expect(dependentsOf('o2')).toEqual(['d']);
  });

  test('changed references move the dependent between owners', () => {
    graph.observe(CONFIGMAP, cm('o1'));
    graph.observe(CONFIGMAP, cm('o2'));
    const before = cm('d', [ref('o1')]);
    graph.observe(CONFIGMAP, before);
    graph.observe(CONFIGMAP, cm('d', [ref('o2')]), before);
    expect(dependentsOf('o1')).toEqual([]);
    expect(dependentsOf('o2')).toEqual(['d']);
  });

  test('a deleted owner leaves the graph and its dependents are queued', () => {
    graph.observe(CONFIGMAP, cm('owner'));
    graph.observe(CONFIGMAP, cm('a', [ref('owner')]));
    graph.observeDelete(CONFIGMAP, cm('owner'));
    expect(graph.get('owner')).toBeUndefined();
    expect(toDelete).toEqual(['a']);
    // Its dependents remember it is gone, so they need no lookup of it.
    expect(graph.absentOwners.has(identity('owner'))).toBe(true);
  });

  test('a deleted dependent leaves its owners\' dependents', () => {
    graph.observe(CONFIGMAP, cm('owner'));
    graph.observe(CONFIGMAP, cm('a', [ref('owner')]));
    graph.observeDelete(CONFIGMAP, cm('a', [ref('owner')]));
    expect(dependentsOf('owner')).toEqual([]);
    expect(graph.size).toBe(1);
  });
});

describe('virtual nodes for owners not observed yet', () => {
  test('an unseen owner gets a virtual node, queued to be checked', () => {
    graph.observe(CONFIGMAP, cm('a', [ref('owner')]));
    const owner = graph.get('owner');
    expect(owner?.observed).toBe(false);
    expect(owner?.identity).toEqual(identity('owner'));
    expect(dependentsOf('owner')).toEqual(['a']);
    expect(toDelete).toEqual(['owner']);
  });

  test('a cluster-scoped owner kind is looked for without a namespace', () => {
    graph.observe(CONFIGMAP, cm('a', [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid' }]));
    expect(graph.get('node-uid')?.identity.namespace).toBe('');
  });

  test('the owner observed later turns real and keeps its dependents', () => {
    graph.observe(CONFIGMAP, cm('a', [ref('owner')]));
    graph.observe(CONFIGMAP, cm('owner'));
    expect(graph.get('owner')?.observed).toBe(true);
    expect(dependentsOf('owner')).toEqual(['a']);
  });

  test('a virtual delete of a virtual node removes it and queues its dependents', () => {
    graph.observe(CONFIGMAP, cm('a', [ref('owner')]));
    toDelete = [];
    graph.virtualDelete(identity('owner'));
    expect(graph.get('owner')).toBeUndefined();
    expect(toDelete).toEqual(['a']);
  });

  test('a virtual delete never removes a node an informer shows under the same uid but other coordinates', () => {
    graph.observe(CONFIGMAP, cm('owner'));
    graph.observe(CONFIGMAP, cm('a', [ref('owner', { name: 'wrong-name' })]));
    toDelete = [];
    graph.virtualDelete({ ...identity('owner'), name: 'wrong-name' });
    expect(graph.get('owner')?.observed).toBe(true);
    // The dependent naming the disproved coordinates is rechecked; they are known absent.
    expect(toDelete).toEqual(['a']);
    expect(graph.absentOwners.has({ ...identity('owner'), name: 'wrong-name' })).toBe(true);
  });

  test('dependents that disagree on a virtual owner\'s coordinates keep it for the next identity', () => {
    graph.observe(CONFIGMAP, cm('a', [ref('owner')]));
    graph.observe(CONFIGMAP, cm('b', [ref('owner', { name: 'other' })]));
    toDelete = [];
    graph.virtualDelete(identity('owner'));
    expect(graph.get('owner')?.identity.name).toBe('other');
    expect(toDelete.sort()).toEqual(['a', 'owner']);
  });

  test('a dependent naming an observed owner from another namespace is reported and rechecked', () => {
    graph.observe(CONFIGMAP, cm('owner'));
    toDelete = [];
    graph.observe(CONFIGMAP, { metadata: { name: 'x', namespace: 'elsewhere', uid: 'x', ownerReferences: [ref('owner')] } });
    expect(invalid).toEqual(['x->owner']);
    expect(toDelete).toEqual(['x']);
  });
});

describe('deletion transitions', () => {
  test('deletion with the orphan finalizer queues the owner for orphaning, once', () => {
    const live = cm('owner');
    graph.observe(CONFIGMAP, live);
    const deleting = cm('owner', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['orphan'] });
    graph.observe(CONFIGMAP, deleting, live);
    graph.observe(CONFIGMAP, cm('owner', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['orphan'], labels: { a: 'b' } }), deleting);
    expect(toOrphan).toEqual(['owner']);
  });

  test('foreground deletion marks the owner and queues it with its dependents', () => {
    graph.observe(CONFIGMAP, cm('owner'));
    graph.observe(CONFIGMAP, cm('a', [ref('owner', { blockOwnerDeletion: true })]));
    graph.observe(CONFIGMAP, cm('b', [ref('owner')]));
    graph.observe(CONFIGMAP, cm('owner', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }), cm('owner'));
    expect(graph.get('owner')?.deletingDependents).toBe(true);
    expect(toDelete.sort()).toEqual(['a', 'b', 'owner']);
    expect(graph.get('owner')?.blockingDependents().map((node) => node.identity.uid)).toEqual(['a']);
  });

  test('an owner first seen already in foreground deletion (a restart) is picked up', () => {
    graph.observe(CONFIGMAP, cm('a', [ref('owner', { blockOwnerDeletion: true })]));
    graph.observe(CONFIGMAP, cm('owner', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }));
    expect(graph.get('owner')?.deletingDependents).toBe(true);
    expect(toDelete).toContain('a');
  });

  test('a dependent that stops blocking queues its owner; a deleted dependent queues a deleting owner', () => {
    graph.observe(CONFIGMAP, cm('owner', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }));
    const blocking = cm('a', [ref('owner', { blockOwnerDeletion: true })]);
    graph.observe(CONFIGMAP, blocking);
    graph.observe(CONFIGMAP, cm('b', [ref('owner', { blockOwnerDeletion: true })]));
    toDelete = [];
    graph.observe(CONFIGMAP, cm('a', [ref('owner', { blockOwnerDeletion: false })]), blocking);
    expect(toDelete).toEqual(['owner']);
    toDelete = [];
    graph.observeDelete(CONFIGMAP, cm('b', [ref('owner', { blockOwnerDeletion: true })]));
    expect(toDelete).toEqual(['owner']);
    expect(graph.get('owner')?.blockingDependents()).toEqual([]);
  });
});

describe('cycles', () => {
  test('objects owning each other are built, deleted and transition without hanging', () => {
    graph.observe(CONFIGMAP, cm('a', [ref('b', { blockOwnerDeletion: true })]));
    graph.observe(CONFIGMAP, cm('b', [ref('a', { blockOwnerDeletion: true })]));
    expect(dependentsOf('a')).toEqual(['b']);
    expect(dependentsOf('b')).toEqual(['a']);
    graph.observe(CONFIGMAP, cm('a', [ref('b', { blockOwnerDeletion: true })], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] }));
    expect(toDelete).toContain('b');
    graph.observeDelete(CONFIGMAP, cm('a'));
    graph.observeDelete(CONFIGMAP, cm('b'));
    expect(graph.size).toBe(0);
  });

  test('an object that owns itself', () => {
    graph.observe(CONFIGMAP, cm('self', [ref('self')]));
    expect(dependentsOf('self')).toEqual(['self']);
    graph.observeDelete(CONFIGMAP, cm('self', [ref('self')]));
    expect(graph.size).toBe(0);
  });

  test('a long ring of 10,000 owners', () => {
    const count = 10_000;
    for (let i = 0; i < count; i++) graph.observe(CONFIGMAP, cm(`r${i}`, [ref(`r${(i + 1) % count}`)]));
    expect(graph.size).toBe(count);
    expect(graph.get('r0')?.observed).toBe(true);
    expect(dependentsOf('r0')).toEqual([`r${count - 1}`]);
  });
});

test('cluster-scoped owners keep dependents in any namespace', () => {
  graph.observe(NODE, { metadata: { name: 'n1', uid: 'node' } });
  graph.observe(CONFIGMAP, { metadata: { name: 'x', namespace: 'one', uid: 'x', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node' }] } });
  graph.observe(CONFIGMAP, { metadata: { name: 'y', namespace: 'two', uid: 'y', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node' }] } });
  expect(dependentsOf('node')).toEqual(['x', 'y']);
  expect(toDelete).toEqual([]);
  expect(invalid).toEqual([]);
});
