import { TestCluster, etcdctl, etcdctlOk, waitForLeader, type StoreKind } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * Growing and shrinking a cluster with etcdctl, as an operator does: add a learner, start it,
 * promote it once it has caught up, then remove a member (which shuts itself down). Run against
 * etcd 3.4 and k8ts-store alike.
 */
const KINDS: StoreKind[] = ['etcd', 'k8ts'];

/** One line of `etcdctl member list` (simple format): ids stay exact hex, unlike JSON numbers. */
interface MemberLine {
  id: string;
  name: string;
  peerURLs: string[];
  isLearner: boolean;
}

async function retry<T>(attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((done) => setTimeout(done, 300));
  }
}

describe.each(KINDS)('membership changes with etcdctl against %s', (kind) => {
  let cluster: TestCluster;
  const members = async (endpoints: string[]): Promise<MemberLine[]> =>
    (await etcdctlOk(endpoints, ['member', 'list']))
      .trim()
      .split('\n')
      .map((line) => line.split(', '))
      .map(([id, , name, peers, , learner]) => ({ id: id ?? '', name: name ?? '', peerURLs: (peers ?? '').split(','), isLearner: learner === 'true' }));

  beforeAll(async () => {
    cluster = await TestCluster.start(kind);
    await waitForLeader(cluster.endpoints);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  test('a learner joins, catches up, and is promoted to a voter', async () => {
    const endpoints = cluster.endpoints.slice(0, 3);
    await etcdctlOk(endpoints, ['put', 'before-join', 'v']);
    const { member, peerUrl } = await cluster.prepareJoiningMember('m4');
    // etcdctl prints ids with %16x: an id with leading zero nibbles is space-padded (etcd's too).
    // etcd refuses changes until its members have been connected for a while ("unhealthy cluster").
    const added = await retry(async () => {
      const result = await etcdctl(endpoints, ['member', 'add', 'm4', `--peer-urls=${peerUrl}`, '--learner']);
      return result.code === 0 ? result.stdout : undefined;
    }, 20_000);
    expect(added).toMatch(/^Member +[0-9a-f]{1,16} added to cluster +[0-9a-f]{1,16}\n/);
    expect(added).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');
    const learner = (await members(endpoints)).find((m) => m.peerURLs.includes(peerUrl));
    expect(learner?.isLearner).toBe(true);

    cluster.launch(member);
    // The learner serves what the cluster had before it joined (serializable: learners serve no
    // linearizable reads in etcd 3.4).
    const value = await retry(async () => {
      const result = await etcdctl([member.endpoint], ['get', 'before-join', '--consistency', 's', '--print-value-only']);
      return result.code === 0 && result.stdout === 'v\n' ? result.stdout : undefined;
    }, 20_000);
    expect(value).toBe('v\n');

    const id = learner?.id ?? '';
    const promoted = await retry(async () => {
      const result = await etcdctl(endpoints, ['member', 'promote', id]);
      return result.code === 0 ? result.stdout : undefined;
    }, 20_000);
    expect(promoted).toMatch(/^Member +[0-9a-f]{1,16} promoted in cluster +[0-9a-f]{1,16}\n/);
    const after = await members(endpoints);
    expect(after).toHaveLength(4);
    expect(after.every((m) => m.isLearner !== true)).toBe(true);
    expect(after.find((m) => m.peerURLs.includes(peerUrl))?.name).toBe('m4');
  });

  test('promoting a voter and removing an unknown member are refused with etcd’s errors', async () => {
    const endpoints = cluster.endpoints.slice(0, 3);
    const voter = (await members(endpoints))[0];
    const promote = await etcdctl(endpoints, ['member', 'promote', voter?.id ?? '']);
    expect(promote.code).not.toBe(0);
    expect(promote.stderr).toContain('etcdserver: can only promote a learner member');
    const remove = await etcdctl(endpoints, ['member', 'remove', 'abcdef']);
    expect(remove.code).not.toBe(0);
    expect(remove.stderr).toContain('etcdserver: member not found');
  });

  test('a removed member leaves the list and shuts itself down; the rest go on', async () => {
    const removed = cluster.members[3];
    if (removed === undefined) throw new Error('no fourth member');
    const endpoints = cluster.endpoints.slice(0, 3);
    const target = (await members(endpoints)).find((m) => m.name === removed.name);
    const output = await etcdctlOk(endpoints, ['member', 'remove', target?.id ?? '']);
    expect(output).toMatch(/^Member +[0-9a-f]{1,16} removed from cluster +[0-9a-f]{1,16}\n/);
    expect((await members(endpoints)).map((m) => m.name).sort()).toEqual(['m1', 'm2', 'm3']);
    expect(await cluster.exited(removed, 15_000)).toBe(true);
    expect(await etcdctlOk(endpoints, ['put', 'after-remove', 'v'])).toBe('OK\n');
  });
});
