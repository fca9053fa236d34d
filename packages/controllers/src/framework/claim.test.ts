import { ApiError } from '@k8ts/apimachinery';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { adoptPatch, claimFor, claimObjects, recheckOwner, releasePatch } from './claim.js';
import type { OwnerKind } from './controller_ref.js';

const REPLICA_SET_KIND: OwnerKind = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };

const rs: ReplicaSet = {
  metadata: { name: 'web', namespace: 'ns', uid: 'rs-uid' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' }, annotations: { note: 'n' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  },
};
const deleting: ReplicaSet = { ...rs, metadata: { ...rs.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } };
const owner = (uid: string) => [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid, controller: true }];
const pod = (extra: Partial<NonNullable<Pod['metadata']>> = {}): Pod => ({ metadata: { name: 'p', namespace: 'ns', uid: 'pod-uid', ...extra } });

describe('claiming pods (upstream ClaimObject)', () => {
  test('owned and matching: ours; owned by another controller: never touched', () => {
    expect(claimFor(rs, pod({ ownerReferences: owner('rs-uid') }), true)).toBe('owned');
    expect(claimFor(rs, pod({ ownerReferences: owner('other') }), true)).toBe('ignore');
  });

  test('owned but no longer matching: released, unless the ReplicaSet is being deleted', () => {
    expect(claimFor(rs, pod({ ownerReferences: owner('rs-uid') }), false)).toBe('release');
    expect(claimFor(deleting, pod({ ownerReferences: owner('rs-uid') }), false)).toBe('ignore');
  });

  test('a matching orphan is adopted, unless it or the ReplicaSet is being deleted, or it lives elsewhere', () => {
    expect(claimFor(rs, pod(), true)).toBe('adopt');
    expect(claimFor(rs, pod(), false)).toBe('ignore');
    expect(claimFor(deleting, pod(), true)).toBe('ignore');
    expect(claimFor(rs, pod({ deletionTimestamp: '2024-01-01T00:00:00Z' }), true)).toBe('ignore');
    expect(claimFor(rs, pod({ namespace: 'other' }), true)).toBe('ignore');
    // A non-controller owner reference leaves the pod an orphan.
    expect(claimFor(rs, pod({ ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'u' }] }), true)).toBe('adopt');
  });

  test('adopt and release patches name the pod by uid and the ReplicaSet as controller', () => {
    expect(adoptPatch(rs, REPLICA_SET_KIND, pod())).toEqual({
      metadata: { uid: 'pod-uid', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }] },
    });
    expect(releasePatch(rs, pod())).toEqual({ metadata: { uid: 'pod-uid', ownerReferences: [{ $patch: 'delete', uid: 'rs-uid' }] } });
  });
});

describe('claimObjects applies the claims', () => {
  const owned = pod({ name: 'owned', ownerReferences: owner('rs-uid') });
  const orphan = pod({ name: 'orphan', uid: 'orphan-uid' });
  const stale = pod({ name: 'stale', uid: 'stale-uid', ownerReferences: owner('rs-uid') });
  const foreign = pod({ name: 'foreign', ownerReferences: owner('other') });
  const matches = (p: Pod): boolean => p.metadata?.name !== 'stale';

  test('adopts orphans after one fresh read, releases stale pods, returns what is ours', async () => {
    const patched: string[] = [];
    let reads = 0;
    const ours = await claimObjects({
      owner: rs,
      ownerKind: REPLICA_SET_KIND,
      objects: [owned, orphan, stale, foreign, pod({ name: 'orphan2', uid: 'o2' })],
      matches,
      patch: async (p, body) => {
        patched.push(`${p.metadata?.name}:${JSON.stringify(body)}`);
        return { ...p, metadata: { ...p.metadata, resourceVersion: 'patched' } };
      },
      canAdopt: async () => void reads++,
    });
    expect(ours.map((p) => p.metadata?.name)).toEqual(['owned', 'orphan', 'orphan2']);
    // An adopted object is claimed as the patch answered it; an owned one as it was.
    expect(ours.map((p) => p.metadata?.resourceVersion)).toEqual([undefined, 'patched', 'patched']);
    expect(reads).toBe(1);
    expect(patched).toEqual([
      `orphan:${JSON.stringify(adoptPatch(rs, REPLICA_SET_KIND, orphan))}`,
      `stale:${JSON.stringify(releasePatch(rs, stale))}`,
      `orphan2:${JSON.stringify(adoptPatch(rs, REPLICA_SET_KIND, pod({ name: 'orphan2', uid: 'o2' })))}`,
    ]);
  });

  test('an owner that fails the fresh read adopts nothing and the claim fails; pods gone meanwhile are skipped', async () => {
    const refused = claimObjects({ owner: rs, ownerKind: REPLICA_SET_KIND, objects: [owned, orphan], matches, patch: async (p) => p, canAdopt: async () => Promise.reject(new Error('original ReplicaSet is gone')) });
    await expect(refused).rejects.toThrow('original ReplicaSet is gone');
    const notFound = new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "orphan" not found', reason: 'NotFound', code: 404 });
    const ours = await claimObjects({ owner: rs, ownerKind: REPLICA_SET_KIND, objects: [owned, orphan, stale], matches, patch: async () => Promise.reject(notFound), canAdopt: async () => undefined });
    expect(ours.map((p) => p.metadata?.name)).toEqual(['owned']);
  });
});

describe('recheckOwner (canAdopt by a fresh read)', () => {
  test('the same owner, not being deleted, may adopt', async () => {
    await expect(recheckOwner(rs, REPLICA_SET_KIND, async () => rs)).resolves.toBeUndefined();
  });

  test('another object under the name, or the owner being deleted, may not', async () => {
    const replaced = { ...rs, metadata: { ...rs.metadata, uid: 'new-uid' } };
    await expect(recheckOwner(rs, REPLICA_SET_KIND, async () => replaced)).rejects.toThrow('original ReplicaSet ns/web is gone: got uid new-uid, wanted rs-uid');
    await expect(recheckOwner(rs, REPLICA_SET_KIND, async () => deleting)).rejects.toThrow('ns/web has just been deleted at 2024-01-01T00:00:00Z');
  });
});
