import { hostname } from 'node:os';
import type { LeaderElector } from '@k8ts/client';
import { describe, expect, test } from 'vitest';
import { isLeading, leaderIdentity } from './leader_election.js';

describe('leader election wiring', () => {
  test("identities are kube's <hostname>_<random>, new for each start", () => {
    const a = leaderIdentity();
    expect(a).toMatch(new RegExp(`^${hostname()}_[0-9a-f]{8}$`));
    expect(leaderIdentity()).not.toBe(a);
  });

  test('a replica leads while it holds the Lease, or always without --leader-elect', () => {
    const elector = (leader: boolean): LeaderElector => ({ isLeader: () => leader }) as LeaderElector;
    expect(isLeading({ leaderElect: false }, undefined)).toBe(true);
    expect(isLeading({ leaderElect: true }, undefined)).toBe(false);
    expect(isLeading({ leaderElect: true }, elector(false))).toBe(false);
    expect(isLeading({ leaderElect: true }, elector(true))).toBe(true);
  });
});
