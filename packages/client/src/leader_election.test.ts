import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { describe, expect, test } from 'vitest';
import { FakeClock } from '@k8ts/base';
import { apiErrors } from '@k8ts/apimachinery';
import type { ApiClient } from './api_client.js';
import { LeaderElector } from './leader_election.js';

const LEASES = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', resource: 'leases', namespaced: true } as const;

/** One Lease kept as the API server keeps it: every write conditional on its resourceVersion. */
class LeaseStore {
  lease: Lease | undefined;
  private version = 0;
  readonly calls: string[] = [];

  client(): ApiClient {
    const leases = {
      get: async (name: string): Promise<Lease> => {
        this.calls.push('get');
        if (this.lease === undefined) throw apiErrors.notFound(LEASES, name);
        return structuredClone(this.lease);
      },
      create: async (lease: Lease): Promise<Lease> => {
        this.calls.push('create');
        if (this.lease !== undefined) throw apiErrors.alreadyExists(LEASES, lease.metadata?.name ?? '');
        return this.store(lease);
      },
      update: async (lease: Lease): Promise<Lease> => {
        this.calls.push('update');
        if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw apiErrors.staleResourceVersion(LEASES, lease.metadata?.name ?? '');
        return this.store(lease);
      },
    };
    return { resource: () => ({ namespace: () => leases }) } as unknown as ApiClient;
  }

  /** Another writer (an operator, a second candidate) changes the Lease behind the leader's back. */
  writeBehind(holder: string): void {
    this.store({ ...this.lease, spec: { ...this.lease?.spec, holderIdentity: holder } });
  }

  private store(lease: Lease): Lease {
    this.lease = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.version) } };
    return structuredClone(this.lease);
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 50; i++) await Promise.resolve();
};

function elector(store: LeaseStore, clock: FakeClock, identity: string, onStopped: () => void = () => undefined): LeaderElector {
  return new LeaderElector({
    client: store.client(),
    namespace: 'kube-system',
    name: 'kube-scheduler',
    identity,
    clock,
    callbacks: { onStartedLeading: () => undefined, onStoppedLeading: onStopped },
  });
}

describe('LeaderElector', () => {
  test('a leader renews with one conditional write per retry period and no read (client-go fast path)', async () => {
    const store = new LeaseStore();
    const clock = new FakeClock(1_000_000);
    const a = elector(store, clock, 'a');
    void a.run().catch(() => undefined);
    await settle();
    expect(a.isLeader()).toBe(true);
    store.calls.length = 0;
    for (let round = 0; round < 5; round++) {
      clock.advance(2_000);
      await settle();
    }
    expect(store.calls).toEqual(['update', 'update', 'update', 'update', 'update']);
    expect(store.lease?.spec?.holderIdentity).toBe('a');
    expect(store.lease?.spec?.renewTime).toBe(new Date(1_000_000 + 5 * 2_000).toISOString().replace('Z', '000Z'));
    await a.stop();
  });

  test('a renewal that meets a Conflict reads the Lease again and stops leading when someone else holds it', async () => {
    const store = new LeaseStore();
    const clock = new FakeClock(1_000_000);
    let stopped = false;
    const a = elector(store, clock, 'a', () => (stopped = true));
    const running = a.run();
    await settle();
    expect(a.isLeader()).toBe(true);
    store.writeBehind('b');
    store.calls.length = 0;
    // Each round: the optimistic write conflicts, the read shows b's valid Lease; renewDeadline (10 s) ends it.
    for (let round = 0; round < 6 && !stopped; round++) {
      clock.advance(2_000);
      await settle();
    }
    expect(store.calls.slice(0, 2)).toEqual(['update', 'get']);
    expect(stopped).toBe(true);
    expect(a.isLeader()).toBe(false);
    expect(store.lease?.spec?.holderIdentity).toBe('b');
    await a.stop();
    await running;
  });
});
