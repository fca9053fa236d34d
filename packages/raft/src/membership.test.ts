import { describe, expect, test } from 'vitest';
import { ScriptedCluster, among, from, to, type ScriptedOptions, elections } from '../sim/scripted_cluster.js';
import { MessageType, Role, bootstrapState, joiningState, type NodeId, type PersistedState } from './index.js';

const ELECTION_TIMEOUT = 10;


/** Voters 1, 2, 3 with 1 elected leader of term 2, and (optionally) node 4 up but not yet a member. */
function cluster(options: ScriptedOptions = {}, withNewcomer = false): ScriptedCluster {
  const states = new Map<NodeId, PersistedState>([1, 2, 3].map((id) => [id, bootstrapState([1, 2, 3])]));
  if (withNewcomer) states.set(4, joiningState());
  const c = new ScriptedCluster([...states.keys()], options, states);
  c.campaign(1);
  c.deliver();
  expect(c.leader()).toBe(1);
  return c;
}

function membershipOn(c: ScriptedCluster, id: NodeId): { voters: readonly NodeId[]; learners: readonly NodeId[] } {
  return c.raft(id).status().membership;
}

describe('learners (dissertation §4.2.1)', () => {
  test('a learner catches up with the log but never campaigns', () => {
    const c = cluster({}, true);
    expect(c.act(1, (r) => r.proposeMembershipChange({ type: 'addLearner', node: 4 }))).toMatchObject({ ok: true, index: 3 });
    c.deliver();

    // The newcomer started with an empty log; the leader backed up to index 0 and sent it all.
    expect(c.logTerms(4)).toEqual(c.logTerms(1));
    expect(c.raft(4).log.committed).toBe(3);
    expect(membershipOn(c, 4)).toEqual({ voters: [1, 2, 3], learners: [4] });

    // However long it goes without hearing from a leader, a learner does not campaign.
    c.isolate(4);
    c.tick(4, 5 * ELECTION_TIMEOUT);
    c.campaign(4);
    expect(c.mailbox.filter(from(4))).toEqual([]);
    expect(c.raft(4)).toMatchObject({ role: Role.Follower, term: 2 });
  });

  test('a learner is never asked for its vote and does not count towards a quorum', () => {
    const c = cluster({ checkQuorum: false }, true);
    c.act(1, (r) => r.proposeMembershipChange({ type: 'addLearner', node: 4 }));
    c.deliver();

    // With 2 and 3 down, the leader and the learner hold "x": one voter of three is no quorum.
    c.crash(2);
    c.crash(3);
    c.propose(1, 'x');
    c.deliver();
    expect(c.logTerms(4)).toEqual(c.logTerms(1));
    expect(c.raft(1).log.committed).toBe(3);

    // 2 returns, and with it a quorum: "x" commits.
    c.restart(2);
    c.tick(1);
    c.deliver();
    expect(c.raft(1).log.committed).toBe(4);
    expect(c.appliedValues(4)).toEqual(['x']);

    // When 2 campaigns, it asks the voters 1 and 3, not the learner.
    c.campaign(2);
    const asked = c.mailbox.filter((m) => m.type === MessageType.PreVote).map((m) => m.to);
    expect(asked.sort()).toEqual([1, 3]);
  });

  test('promotion is refused until the learner has caught up with the commit index, then accepted', () => {
    const c = cluster({}, true);
    c.act(1, (r) => r.proposeMembershipChange({ type: 'addLearner', node: 4 }));
    // The voters commit the change, but nothing has reached 4 yet.
    c.deliver(among([1, 2, 3]));
    expect(c.raft(1).log.committed).toBe(3);

    const early = c.act(1, (r) => r.proposeMembershipChange({ type: 'promoteLearner', node: 4 }));
    expect(early).toMatchObject({ ok: false });
    expect(early.ok ? '' : early.reason).toMatch(/has not caught up/);
    expect(membershipOn(c, 1)).toEqual({ voters: [1, 2, 3], learners: [4] });

    c.deliver();
    expect(c.logTerms(4)).toEqual(c.logTerms(1));
    expect(c.act(1, (r) => r.proposeMembershipChange({ type: 'promoteLearner', node: 4 }))).toMatchObject({ ok: true, index: 4 });
    c.deliver();
    for (const id of [1, 2, 3, 4]) expect(membershipOn(c, id)).toEqual({ voters: [1, 2, 3, 4], learners: [] });
    expect(c.raft(1).log.committed).toBe(4);

    // Four voters need three for a quorum: with 2 and 3 down, 1 and 4 cannot commit.
    c.crash(2);
    c.crash(3);
    c.propose(1, 'x');
    c.deliver();
    expect(c.logTerms(4)).toEqual(c.logTerms(1));
    expect(c.raft(1).log.committed).toBe(4);
  });
});

describe('removing servers (dissertation §4.2)', () => {
  test('a removed follower is no longer replicated to, and the rest commit without it', () => {
    const c = cluster();
    expect(c.act(1, (r) => r.proposeMembershipChange({ type: 'removeNode', node: 3 }))).toMatchObject({ ok: true, index: 3 });
    // The change takes effect as soon as it is in the leader's log: 3 is not even sent it.
    expect(c.mailbox.filter(to(3))).toEqual([]);
    c.deliver();
    expect(membershipOn(c, 1)).toEqual({ voters: [1, 2], learners: [] });
    expect(c.raft(1).log.committed).toBe(3);
    expect(c.raft(1).status().followers.map((f) => f.id)).toEqual([2]);

    c.propose(1, 'x');
    expect(c.mailbox.filter(to(3))).toEqual([]);
    c.deliver();
    expect(c.appliedValues(2)).toEqual(['x']);

    // 3, unaware, times out again and again; 1 and 2 still hear from the leader and ignore it.
    for (let t = 0; t < 3 * ELECTION_TIMEOUT; t++) {
      for (const id of [1, 2, 3]) c.tick(id);
      c.deliver();
    }
    expect(c.raft(1)).toMatchObject({ role: Role.Leader, term: 2 });
    expect(c.raft(2)).toMatchObject({ role: Role.Follower, term: 2, leader: 1 });
    // Its pre-votes leave its own term, and everyone else's, alone.
    expect(c.raft(3)).toMatchObject({ role: Role.PreCandidate, term: 2 });
  });

  test('a leader that removes itself steps down when the removal commits, and the others elect a leader', () => {
    // Without CheckQuorum's lease, the first of 2 and 3 to time out can win.
    const c = cluster({ checkQuorum: false });
    expect(c.act(1, (r) => r.proposeMembershipChange({ type: 'removeNode', node: 1 }))).toMatchObject({ ok: true, index: 3 });
    // It still leads while the change is uncommitted, replicating it to the new voters 2 and 3.
    expect(c.raft(1).role).toBe(Role.Leader);
    c.deliver();
    expect(c.raft(1)).toMatchObject({ role: Role.Follower, term: 2 });
    expect(c.leader()).toBeUndefined();
    for (const id of [1, 2, 3]) expect(membershipOn(c, id)).toEqual({ voters: [2, 3], learners: [] });

    // 1 is out of the membership and never campaigns. 2 times out and wins with 3's vote.
    c.tick(1, 3 * ELECTION_TIMEOUT);
    expect(c.mailbox.filter(from(1))).toEqual([]);
    c.tick(2, ELECTION_TIMEOUT);
    const asked = c.mailbox.filter((m) => m.type === MessageType.PreVote).map((m) => m.to);
    expect(asked).toEqual([3]);
    c.deliver();
    expect(c.raft(2)).toMatchObject({ role: Role.Leader, term: 3 });

    // The new leader's no-op commits the removal with it; 2 and 3 go on without 1.
    expect(c.raft(2).log.committed).toBe(4);
    c.propose(2, 'after');
    c.deliver();
    expect(c.appliedValues(3)).toEqual(['after']);
    expect(c.appliedValues(1)).toEqual([]);
  });
});

describe('one change at a time (dissertation §4.1)', () => {
  test('a second change is refused while the first is uncommitted', () => {
    const c = cluster({}, true);
    expect(c.act(1, (r) => r.proposeMembershipChange({ type: 'addLearner', node: 4 }))).toMatchObject({ ok: true });

    const second = c.act(1, (r) => r.proposeMembershipChange({ type: 'removeNode', node: 3 }));
    expect(second).toMatchObject({ ok: false });
    expect(second.ok ? '' : second.reason).toMatch(/already in progress/);

    c.deliver();
    expect(c.act(1, (r) => r.proposeMembershipChange({ type: 'removeNode', node: 3 }))).toMatchObject({ ok: true });
  });

  test('a new leader refuses a change until it has committed an entry of its own term', () => {
    const c = cluster({ checkQuorum: false });
    c.campaign(2);
    c.deliver(elections);
    expect(c.raft(2)).toMatchObject({ role: Role.Leader, term: 3 });

    // Its no-op (index 3) is written but not yet replicated.
    const early = c.act(2, (r) => r.proposeMembershipChange({ type: 'removeNode', node: 3 }));
    expect(early).toMatchObject({ ok: false });
    expect(early.ok ? '' : early.reason).toMatch(/not yet committed an entry of its term/);

    c.deliver();
    expect(c.raft(2).log.committed).toBe(3);
    expect(c.act(2, (r) => r.proposeMembershipChange({ type: 'removeNode', node: 3 }))).toMatchObject({ ok: true, index: 4 });
  });
});
