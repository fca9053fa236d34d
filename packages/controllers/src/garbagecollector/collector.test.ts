import { apiErrors } from '@k8ts/apimachinery';
import type { DeleteOptions, EventRecorder, KubeObject } from '@k8ts/client';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { pino } from 'pino';
import { beforeEach, describe, expect, test } from 'vitest';
import { Collector, NotObservedYetError } from './collector.js';
import { DependencyGraph } from './graph.js';
import type { ObjectIdentity } from './identity.js';
import type { ObjectApi } from './object_api.js';

const CONFIGMAPS = { group: '', resource: 'configmaps' };
const CONFIGMAP = { apiVersion: 'v1', kind: 'ConfigMap' };
const NAMESPACE = { apiVersion: 'v1', kind: 'Namespace' };

/** An API server in a map: objects by kind/namespace/name, resourceVersions, preconditions, finalizers. */
class FakeApi implements ObjectApi {
  readonly objects = new Map<string, KubeObject & { kind: string }>();
  readonly deletes: { name: string; policy: string | undefined }[] = [];
  private version = 1;

  scopeOf(_apiVersion: string, kind: string): boolean | undefined {
    return kind === 'ConfigMap' ? true : kind === 'Namespace' ? false : undefined;
  }

  put(kind: string, object: KubeObject): void {
    this.objects.set(this.key(kind, object.metadata?.namespace ?? '', object.metadata?.name ?? ''), { ...structuredClone(object), kind, metadata: { ...object.metadata, resourceVersion: String(this.version++) } });
  }

  async get(identity: ObjectIdentity): Promise<KubeObject | undefined> {
    const found = this.objects.get(this.key(identity.kind, identity.namespace, identity.name));
    return found === undefined ? undefined : structuredClone(found);
  }

  async delete(identity: ObjectIdentity, options: DeleteOptions): Promise<void> {
    const key = this.key(identity.kind, identity.namespace, identity.name);
    const found = this.objects.get(key);
    if (found === undefined) throw apiErrors.notFound(CONFIGMAPS, identity.name);
    if (options.preconditions?.uid !== undefined && options.preconditions.uid !== found.metadata?.uid) throw apiErrors.conflict(CONFIGMAPS, identity.name, 'Precondition failed: UID');
    if (options.preconditions?.resourceVersion !== undefined && options.preconditions.resourceVersion !== found.metadata?.resourceVersion) {
      throw apiErrors.conflict(CONFIGMAPS, identity.name, 'Precondition failed: ResourceVersion');
    }
    this.deletes.push({ name: identity.name, policy: options.propagationPolicy });
    if ((found.metadata?.finalizers ?? []).length > 0) found.metadata = { ...found.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' };
    else this.objects.delete(key);
  }

  async patch(identity: ObjectIdentity, mergePatch: unknown): Promise<void> {
    const key = this.key(identity.kind, identity.namespace, identity.name);
    const found = this.objects.get(key);
    if (found === undefined) throw apiErrors.notFound(CONFIGMAPS, identity.name);
    const metadata = (mergePatch as { metadata: Record<string, unknown> }).metadata;
    if (metadata['resourceVersion'] !== found.metadata?.resourceVersion) throw apiErrors.staleResourceVersion(CONFIGMAPS, identity.name);
    const next: Record<string, unknown> = { ...found.metadata };
    for (const [field, value] of Object.entries(metadata)) {
      if (field === 'resourceVersion') continue;
      if (value === null) delete next[field];
      else next[field] = value;
    }
    next['resourceVersion'] = String(this.version++);
    if (next['deletionTimestamp'] !== undefined && ((next['finalizers'] as string[] | undefined) ?? []).length === 0) this.objects.delete(key);
    else this.objects.set(key, { ...found, metadata: next });
  }

  object(kind: string, name: string, namespace = 'ns'): KubeObject | undefined {
    return this.objects.get(this.key(kind, namespace, name));
  }

  private key(kind: string, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }
}

function cm(name: string, uid: string, owners: OwnerReference[] = [], metadata: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name, namespace: 'ns', uid, ownerReferences: owners, ...metadata } };
}

function ref(name: string, uid: string, options: Partial<OwnerReference> = {}): OwnerReference {
  return { apiVersion: 'v1', kind: 'ConfigMap', name, uid, ...options };
}

let api: FakeApi;
let graph: DependencyGraph;
let collector: Collector;
let queued: string[];
let events: string[];

/** Runs attemptToDelete on everything queued until the queue is empty (each uid at most `limit` times). */
async function drain(limit = 10): Promise<void> {
  const runs = new Map<string, number>();
  while (queued.length > 0) {
    const uid = queued.shift() as string;
    const count = (runs.get(uid) ?? 0) + 1;
    runs.set(uid, count);
    if (count > limit) throw new Error(`${uid} queued more than ${limit} times`);
    try {
      await collector.attemptToDelete(uid);
    } catch (error) {
      if (!(error instanceof NotObservedYetError)) throw error;
    }
  }
}

beforeEach(() => {
  api = new FakeApi();
  queued = [];
  events = [];
  graph = new DependencyGraph({ attemptToDelete: (uid) => queued.push(uid), attemptToOrphan: () => undefined, invalidNamespaceOwnerRef: () => undefined }, (v, k) => api.scopeOf(v, k));
  const recorder: EventRecorder = { event: (_object, type, reason, message) => void events.push(`${type} ${reason} ${message}`) };
  collector = new Collector(graph, api, (uid) => queued.push(uid), recorder, pino({ level: 'silent' }));
});

describe('attemptToDelete decides from live reads, not from the graph', () => {
  test('an owner that exists but is not in the cache yet keeps its dependent', async () => {
    api.put('ConfigMap', cm('owner', 'o1'));
    const dependent = cm('dep', 'd1', [ref('owner', 'o1')]);
    api.put('ConfigMap', dependent);
    graph.observe(CONFIGMAP, dependent);
    expect(queued).toEqual(['o1']);
    await expect(collector.attemptToDelete('o1')).rejects.toBeInstanceOf(NotObservedYetError);
    expect(graph.get('o1')?.observed).toBe(false);
    // Even asked directly, the dependent is kept: its owner is read live.
    await collector.attemptToDelete('d1');
    expect(api.deletes).toEqual([]);
    expect(api.object('ConfigMap', 'dep')).toBeDefined();
  });

  test('an owner that is gone: its dependent is deleted in the background, with preconditions', async () => {
    const dependent = cm('dep', 'd1', [ref('owner', 'o1')]);
    api.put('ConfigMap', dependent);
    graph.observe(CONFIGMAP, dependent);
    await drain();
    expect(api.deletes).toEqual([{ name: 'dep', policy: 'Background' }]);
    expect(graph.get('o1')).toBeUndefined();
  });

  test('an owner re-created under the same name with another uid does not keep the dependent', async () => {
    api.put('ConfigMap', cm('owner', 'o2'));
    const dependent = cm('dep', 'd1', [ref('owner', 'o1')]);
    api.put('ConfigMap', dependent);
    graph.observe(CONFIGMAP, cm('owner', 'o2'));
    graph.observe(CONFIGMAP, dependent);
    await drain();
    expect(api.deletes).toEqual([{ name: 'dep', policy: 'Background' }]);
    expect(api.object('ConfigMap', 'owner')).toBeDefined();
  });

  test('one live owner keeps it, and the dangling reference is removed', async () => {
    api.put('ConfigMap', cm('alive', 'a1'));
    const dependent = cm('dep', 'd1', [ref('alive', 'a1'), ref('gone', 'g1')]);
    api.put('ConfigMap', dependent);
    graph.observe(CONFIGMAP, cm('alive', 'a1'));
    graph.observe(CONFIGMAP, dependent);
    await drain();
    expect(api.deletes).toEqual([]);
    expect(api.object('ConfigMap', 'dep')?.metadata?.ownerReferences?.map((owner) => owner.uid)).toEqual(['a1']);
  });

  test('a dependent changed since it was read is judged again, not deleted on stale references', async () => {
    const dependent = cm('dep', 'd1', [ref('owner', 'o1')]);
    api.put('ConfigMap', dependent);
    graph.observe(CONFIGMAP, dependent);
    queued = [];
    // Adopted by a live owner between the collector's read and its delete.
    api.put('ConfigMap', cm('adopter', 'a1'));
    const realGet = api.get.bind(api);
    let reads = 0;
    api.get = async (identity) => {
      const object = await realGet(identity);
      if (identity.uid === 'd1' && ++reads === 1) api.put('ConfigMap', cm('dep', 'd1', [ref('owner', 'o1'), ref('adopter', 'a1')]));
      return object;
    };
    await collector.attemptToDelete('o1');
    expect(queued).toEqual(['d1']);
    await expect(collector.attemptToDelete('d1')).rejects.toMatchObject({ reason: 'Conflict' });
    // Judged again on the fresh object: the adopter keeps it, only the gone owner's reference goes.
    await collector.attemptToDelete('d1');
    expect(api.deletes).toEqual([]);
    expect(api.object('ConfigMap', 'dep')?.metadata?.ownerReferences?.map((owner) => owner.uid)).toEqual(['a1']);
  });

  test('a cluster-scoped object naming a namespaced owner is left alone, with a Warning event', async () => {
    const ns = { metadata: { name: 'team', uid: 'n1', ownerReferences: [ref('owner', 'o1')] } };
    api.put('Namespace', ns);
    graph.observe(NAMESPACE, ns);
    await drain();
    expect(api.deletes).toEqual([]);
    expect(events.some((event) => event.startsWith('Warning OwnerRefInvalidNamespace'))).toBe(true);
  });
});

describe('foreground and orphan deletion', () => {
  test('the foregroundDeletion finalizer stays while a blocking dependent exists and goes after', async () => {
    const deleting = cm('owner', 'o1', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] });
    api.put('ConfigMap', deleting);
    const blocking = cm('dep', 'd1', [ref('owner', 'o1', { blockOwnerDeletion: true })], { finalizers: ['example.com/hold'] });
    api.put('ConfigMap', blocking);
    graph.observe(CONFIGMAP, blocking);
    graph.observe(CONFIGMAP, deleting);
    await drain();
    // The dependent was deleted in the background (its owner waits and it has no dependents of its own) ...
    expect(api.deletes.length).toBeGreaterThan(0);
    expect(api.deletes.every((call) => call.name === 'dep' && call.policy === 'Background')).toBe(true);
    // ... and its finalizer holds it: the owner keeps waiting.
    expect(api.object('ConfigMap', 'owner')?.metadata?.finalizers).toEqual(['foregroundDeletion']);
    graph.observe(CONFIGMAP, api.object('ConfigMap', 'dep') as KubeObject, blocking);
    await drain();
    expect(api.object('ConfigMap', 'owner')?.metadata?.finalizers).toEqual(['foregroundDeletion']);
    // The finalizer's holder lets go: the dependent goes, then the owner.
    api.objects.delete('ConfigMap/ns/dep');
    graph.observeDelete(CONFIGMAP, blocking);
    await drain();
    expect(api.object('ConfigMap', 'owner')).toBeUndefined();
  });

  test('orphaning removes the owner\'s references from its dependents, then the finalizer', async () => {
    const owner = cm('owner', 'o1', [], { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['orphan'] });
    api.put('ConfigMap', owner);
    const dependent = cm('dep', 'd1', [ref('owner', 'o1'), ref('other', 'x1')]);
    api.put('ConfigMap', dependent);
    api.put('ConfigMap', cm('other', 'x1'));
    graph.observe(CONFIGMAP, dependent);
    graph.observe(CONFIGMAP, owner);
    await collector.attemptToOrphan('o1');
    expect(api.object('ConfigMap', 'dep')?.metadata?.ownerReferences?.map((reference) => reference.uid)).toEqual(['x1']);
    expect(api.object('ConfigMap', 'owner')).toBeUndefined();
    expect(api.deletes).toEqual([]);
  });
});
