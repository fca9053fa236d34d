import { describe, expect, test } from 'vitest';
import { ScriptedCluster, among, between, from, to, elections, ofType, and } from '../sim/scripted_cluster.js';
import { MessageType, Role } from './index.js';

const ELECTION_TIMEOUT = 10;


describe('leadership transfer (dissertation §3.10)', () => {
  test('to an up-to-date follower: it becomes leader in the next term; proposals are refused meanwhile', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3]);
    c.propose(1, 'a');
    c.deliver();

    expect(c.act(1, (r) => r.transferLeadership(2))).toEqual({ ok: true });
    // 2 already holds everything, so the leader tells it to campaign now.
    expect(c.mailbox).toMatchObject([{ type: MessageType.TimeoutNow, from: 1, to: 2, term: 2 }]);
    const refused = c.propose(1, 'during');
    expect(refused).toMatchObject({ ok: false });
    expect(refused.ok ? '' : refused.reason).toMatch(/transfer in progress/);

    // 2 campaigns at once, and its vote requests bypass the others' leader lease.
    const delivered = c.deliverEach();
    expect(delivered.filter(ofType(MessageType.PreVote))).toEqual([]);
    expect(delivered.filter(ofType(MessageType.Vote))).toMatchObject([
      { from: 2, to: 1, term: 3, force: true },
      { from: 2, to: 3, term: 3, force: true },
    ]);
    expect(c.leader()).toBe(2);
    for (const id of [1, 2, 3]) expect(c.raft(id).status()).toMatchObject({ term: 3, leader: 2 });

    expect(c.propose(2, 'after')).toMatchObject({ ok: true, term: 3 });
    c.deliver();
    for (const id of [1, 2, 3]) expect(c.appliedValues(id)).toEqual(['a', 'after']);
  });

  test('to a lagging follower: the leader first catches it up, then hands over', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3]);
    c.propose(1, 'a');
    c.propose(1, 'b');
    c.deliver(between(1, 2));
    c.drop(to(3)); // 3 has missed "a" and "b"
    expect(c.logTerms(3)).toEqual([1, 2]);

    expect(c.act(1, (r) => r.transferLeadership(3))).toEqual({ ok: true });
    // No TimeoutNow yet: 3 would lose the election with its stale log.
    expect(c.mailbox.filter(ofType(MessageType.TimeoutNow))).toEqual([]);
    expect(c.propose(1, 'during')).toMatchObject({ ok: false });

    const delivered = c.deliverEach();
    const timeoutNowAt = delivered.findIndex(ofType(MessageType.TimeoutNow));
    const caughtUpAt = delivered.findIndex(
      (m) => m.type === MessageType.AppendResponse && m.from === 3 && !m.reject && m.index === 4,
    );
    expect(caughtUpAt).toBeGreaterThanOrEqual(0);
    expect(timeoutNowAt).toBeGreaterThan(caughtUpAt);
    expect(c.leader()).toBe(3);
    expect(c.raft(3).term).toBe(3);
    for (const id of [1, 2, 3]) expect(c.logTerms(id)).toEqual([1, 2, 2, 2, 3]);
    for (const id of [1, 2, 3]) expect(c.appliedValues(id)).toEqual(['a', 'b']);
  });

  test('a transfer that does not finish within an election timeout is abandoned', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3]);
    c.crash(3);
    c.act(1, (r) => r.transferLeadership(3));
    expect(c.propose(1, 'during')).toMatchObject({ ok: false });

    for (let t = 0; t < ELECTION_TIMEOUT; t++) {
      c.tick(1);
      c.tick(2);
      c.deliver();
    }
    expect(c.raft(1).role).toBe(Role.Leader);
    expect(c.propose(1, 'later')).toMatchObject({ ok: true });
  });
});

describe('ReadIndex (dissertation §6.4)', () => {
  test('on the leader: the commit index at the time of the request, once a quorum acknowledges a heartbeat', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3]);
    c.propose(1, 'a');
    c.deliver();
    expect(c.raft(1).log.committed).toBe(3);

    expect(c.act(1, (r) => r.readIndex('read-1'))).toEqual({ ok: true });
    // A write proposed after the read began does not raise its read index.
    c.propose(1, 'b');
    expect(c.node(1).readStates).toEqual([]);

    // 2's acknowledgement of the heartbeat carrying the read makes a quorum with the leader's own.
    c.deliverOne(and(ofType(MessageType.Heartbeat), to(2)));
    expect(c.node(1).readStates).toEqual([]);
    c.deliverOne(and(ofType(MessageType.HeartbeatResponse), from(2)));
    expect(c.node(1).readStates).toEqual([{ index: 3, context: 'read-1' }]);
  });

  test('on a follower: the request goes through the leader and the answer comes back', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3]);
    c.propose(1, 'a');
    c.deliver();

    expect(c.act(3, (r) => r.readIndex('read-3'))).toEqual({ ok: true });
    expect(c.mailbox).toMatchObject([{ type: MessageType.ReadIndex, from: 3, to: 1, context: 'read-3' }]);

    const delivered = c.deliverEach();
    expect(delivered.filter(ofType(MessageType.Heartbeat)).every((m) => m.context === 'read-3')).toBe(true);
    expect(delivered.filter(ofType(MessageType.ReadIndexResponse))).toMatchObject([
      { from: 1, to: 3, index: 3, context: 'read-3' },
    ]);
    expect(c.node(3).readStates).toEqual([{ index: 3, context: 'read-3' }]);
    expect(c.node(1).readStates).toEqual([]);
  });

  test('a new leader answers reads only after its no-op commits', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3], { checkQuorum: false });
    c.propose(1, 'a');
    c.deliver();
    c.campaign(2);
    c.deliver(elections);
    expect(c.raft(2)).toMatchObject({ role: Role.Leader, term: 3 });

    // 2 does not know yet whether its commit index is as high as the old leader's was.
    c.act(2, (r) => r.readIndex('early'));
    c.deliver(ofType(MessageType.Heartbeat));
    c.deliver(ofType(MessageType.HeartbeatResponse));
    expect(c.node(2).readStates).toEqual([]);

    c.deliver();
    expect(c.raft(2).log.committed).toBe(4);
    expect(c.node(2).readStates).toEqual([{ index: 4, context: 'early' }]);
  });

  test('a deposed leader cut off from the majority does not answer a read', () => {
    // No CheckQuorum, so the old leader goes on believing it leads (and 3 may vote for 2 at once).
    const c = ScriptedCluster.withLeader([1, 2, 3], { checkQuorum: false });
    c.propose(1, 'a');
    c.deliver();

    // 1 is cut off. 2 and 3 elect 2 in term 3, which commits "b".
    const majority = among([2, 3]);
    c.campaign(2);
    c.deliver(majority);
    expect(c.raft(2)).toMatchObject({ role: Role.Leader, term: 3 });
    c.propose(2, 'b');
    c.deliver(majority);
    expect(c.raft(2).log.committed).toBe(5);
    c.drop(() => true);
    expect(c.raft(1).status()).toMatchObject({ role: Role.Leader, term: 2, commit: 3 });

    // A read on 1 now must not be answered with index 3: it would miss "b".
    expect(c.act(1, (r) => r.readIndex('stale?'))).toEqual({ ok: true });
    // The network heals. The heartbeats carrying the read reach 2 and 3, who know term 3:
    // instead of acknowledging, they tell 1 of the newer term, and it steps down.
    c.deliver();
    expect(c.node(1).readStates).toEqual([]);
    expect(c.raft(1)).toMatchObject({ role: Role.Follower, term: 3 });

    // Asked again, 1 (now a follower) forwards the read to the real leader and gets a fresh index.
    c.tick(2);
    c.deliver();
    c.act(1, (r) => r.readIndex('fresh'));
    c.deliver();
    expect(c.node(1).readStates).toEqual([{ index: 5, context: 'fresh' }]);
    expect(c.appliedValues(1)).toEqual(['a', 'b']);
  });
});
