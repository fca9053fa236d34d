import { describe, expect, test } from 'vitest';
import { ScriptedCluster, among, between, to, type MessageFilter, elections, carries, and } from '../sim/scripted_cluster.js';
import { MessageType, Role, type Message, type NodeId } from './index.js';

const appends: MessageFilter = (m) => m.type === MessageType.Append;
const rejectedAppend: MessageFilter = (m) => m.type === MessageType.AppendResponse && m.reject;

describe('figure 7: a new leader brings every follower’s log in line with its own (§5.3)', () => {
  const LEADER = 1;
  const followers = { a: 2, b: 3, c: 4, d: 5, e: 6, f: 7 } as const;
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const logs = new Map<NodeId, number[]>([
    [LEADER, leaderLog],
    [followers.a, [1, 1, 1, 4, 4, 5, 5, 6, 6]], // missing an entry
    [followers.b, [1, 1, 1, 4]], // missing many
    [followers.c, [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]], // an extra uncommitted entry
    [followers.d, [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]], // extra entries of a later term
    [followers.e, [1, 1, 1, 4, 4, 4, 4]], // missing some, with extra entries of term 4
    [followers.f, [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]], // led terms 2 and 3 and committed none of it
  ]);

  function figure7(): { c: ScriptedCluster; delivered: Message[] } {
    const c = ScriptedCluster.withLogs(logs, 7);
    // The leader of term 8 is elected by a, b, e and f; c and d hold logs more up to date than its.
    c.campaign(LEADER);
    const votes = c.deliverEach(elections).filter((m) => m.type === MessageType.VoteResponse);
    const granted = votes.filter((m) => !m.reject).map((m) => m.from);
    expect(granted.sort()).toEqual([followers.a, followers.b, followers.e, followers.f]);
    expect(c.raft(LEADER)).toMatchObject({ role: Role.Leader, term: 8 });
    return { c, delivered: c.deliverEach() };
  }

  test('every follower ends with the leader’s log plus its no-op of term 8', () => {
    const { c } = figure7();
    const expected = [...leaderLog, 8];
    expect(c.logTerms(LEADER)).toEqual(expected);
    for (const id of Object.values(followers)) expect(c.logTerms(id)).toEqual(expected);
    // The no-op commits, and with it every entry before it.
    for (const id of [LEADER, ...Object.values(followers)]) expect(c.raft(id).log.committed).toBe(11);
  });

  test('fast backtracking: each follower rejects at most one append, where one-by-one would take up to 7', () => {
    const { delivered } = figure7();
    const rejections = (id: NodeId): number => delivered.filter((m) => rejectedAppend(m) && m.from === id).length;
    // The first append is "after index 10 (term 6)". c and d hold that entry and accept at once.
    // The others reject it with a hint (their last entry at or before 10 whose term is <= 6), and
    // the leader jumps to its own last entry of a term no newer than the hint's:
    //   a hints 9@6 → retry after 9;  b hints 4@4 → after 4;  e hints 7@4 → after 5;
    //   f hints 10@3 → after 3 (the leader has no entry of term 2 or 3), where the logs agree.
    // Decrementing one index per round trip would have taken f seven rejections (10 down to 3).
    expect(rejections(followers.a)).toBe(1);
    expect(rejections(followers.b)).toBe(1);
    expect(rejections(followers.c)).toBe(0);
    expect(rejections(followers.d)).toBe(0);
    expect(rejections(followers.e)).toBe(1);
    expect(rejections(followers.f)).toBe(1);
    const rejectionOfF = delivered.find((m) => rejectedAppend(m) && m.from === followers.f);
    expect(rejectionOfF).toMatchObject({ index: 10, rejectHintIndex: 10, rejectHintTerm: 3 });
    // The retry goes straight to where f's log agrees with the leader's.
    const toF = delivered.filter((m) => appends(m) && m.to === followers.f);
    expect(toF.slice(0, 2).map((m) => [m.index, m.logTerm])).toEqual([
      [10, 6],
      [3, 1],
    ]);
    expect(toF[1]?.entries.map((entry) => entry.term)).toEqual([4, 4, 5, 5, 6, 6, 6, 8]);
  });
});

describe('log replication', () => {
  test('pipelining: unacknowledged appends to one follower never exceed the in-flight window', () => {
    const WINDOW = 3;
    // One entry per append, so ten proposals need ten appends per follower.
    const c = ScriptedCluster.withLeader([1, 2, 3], { maxSizePerMessageBytes: 1, maxInflightMessages: WINDOW });
    const inFlightTo = (id: NodeId): number => c.mailbox.filter((m) => appends(m) && m.to === id && m.entries.length > 0).length;

    for (let i = 1; i <= 10; i++) expect(c.propose(1, `v${i}`)).toMatchObject({ ok: true });
    // The leader pipelines a full window without waiting for answers, then pauses.
    expect(inFlightTo(2)).toBe(WINDOW);
    expect(inFlightTo(3)).toBe(WINDOW);

    let most = 0;
    while (c.mailbox.length > 0) {
      c.deliverOne(() => true);
      most = Math.max(most, inFlightTo(2), inFlightTo(3));
      expect(inFlightTo(2)).toBeLessThanOrEqual(WINDOW);
      expect(inFlightTo(3)).toBeLessThanOrEqual(WINDOW);
    }
    expect(most).toBe(WINDOW);
    const values = Array.from({ length: 10 }, (_, i) => `v${i + 1}`);
    for (const id of [1, 2, 3]) expect(c.appliedValues(id)).toEqual(values);
  });

  test('a lost append in the middle is repaired when the next append does not fit', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3]);
    c.propose(1, 'a');
    expect(c.drop(and(to(3), carries(3)))).toBe(1); // "a" never reaches 3
    c.propose(1, 'b');

    const delivered = c.deliverEach();
    // 3 refuses "b": the append says "after index 3", and 3 has no index 3. (Appends already in
    // flight behind it are refused too; the leader ignores those stale refusals.)
    const refusals = delivered.filter((m) => rejectedAppend(m) && m.from === 3);
    expect(refusals[0]).toMatchObject({ index: 3, rejectHintIndex: 2 });
    // The leader backs up and sends "a" again, after index 2, where 3's log agrees.
    const refusedAt = delivered.indexOf(refusals[0] as Message);
    const resend = delivered.slice(refusedAt).find(and(to(3), carries(3)));
    expect(resend).toMatchObject({ index: 2, logTerm: 2 });
    expect(c.logTerms(3)).toEqual(c.logTerms(1));
    expect(c.appliedValues(3)).toEqual(['a', 'b']);
  });

  test('a lost last append is repaired through the next heartbeat', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3]);
    c.propose(1, 'a');
    c.deliver(between(1, 2));
    // Everything to 3 is lost: "a", then the append that tells of its commit.
    c.drop(to(3));
    // "a" commits with 1 and 2; nothing else is in flight to reveal the gap to the leader.
    expect(c.raft(1).log.committed).toBe(3);
    expect(c.logTerms(3)).toEqual([1, 2]);
    expect(c.mailbox).toEqual([]);

    // The heartbeat answer shows the leader that 3 is behind; it probes and fills the gap.
    c.tick(1);
    c.deliver();
    expect(c.logTerms(3)).toEqual([1, 2, 2]);
    expect(c.appliedValues(3)).toEqual(['a']);
  });

  test('a crashed follower restarts from its disk and catches up', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3]);
    c.propose(1, 'a');
    c.deliver();
    c.crash(3);
    c.propose(1, 'b');
    c.propose(1, 'c');
    c.deliver();
    expect(c.appliedValues(1)).toEqual(['a', 'b', 'c']);

    // 3 comes back with what it had persisted: its term, its log up to "a", its commit index.
    c.restart(3);
    expect(c.raft(3).status()).toMatchObject({ term: 2, commit: 3, lastIndex: 3 });
    expect(c.appliedValues(3)).toEqual(['a']);

    // The leader's next heartbeat finds it behind and sends what it lacks.
    c.tick(1);
    c.deliver();
    expect(c.logTerms(3)).toEqual(c.logTerms(1));
    expect(c.appliedValues(3)).toEqual(['a', 'b', 'c']);
  });

  test('an entry commits only once a majority of voters holds it', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3, 4, 5]);
    c.propose(1, 'x');
    c.deliver(between(1, 2));
    expect(c.raft(1).log.committed).toBe(2); // on 2 of 5
    expect(c.appliedValues(1)).toEqual([]);

    c.deliver(between(1, 3));
    expect(c.raft(1).log.committed).toBe(3); // on 3 of 5
    expect(c.appliedValues(1)).toEqual(['x']);

    // The followers learn the commit index from the leader's next append.
    c.deliver(among([1, 2, 3]));
    expect(c.appliedValues(2)).toEqual(['x']);
    expect(c.appliedValues(3)).toEqual(['x']);
    expect(c.appliedValues(4)).toEqual([]);
  });

  test('proposals taken in one Ready reach each follower as one append, and a commit is told once', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3]);
    const values = ['p1', 'p2', 'p3', 'p4', 'p5'];
    c.act(1, (raft) => values.map((value) => raft.propose(new TextEncoder().encode(value))));
    for (const follower of [2, 3]) {
      const sent = c.mailbox.filter((m) => appends(m) && m.to === follower);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.entries.map((entry) => new TextDecoder().decode(entry.data))).toEqual(values);
    }

    const delivered = c.deliverEach();
    // The first answer commits all five, and the leader tells each follower so once, in an append
    // without entries; the other answers move nothing and send nothing. Each follower answers twice.
    expect(delivered.filter((m) => m.type === MessageType.AppendResponse && m.to === 1)).toHaveLength(4);
    const commitOnly = delivered.filter((m) => appends(m) && m.entries.length === 0);
    expect(commitOnly.map((m) => m.to).sort()).toEqual([2, 3]);
    expect(commitOnly.every((m) => m.commit === c.raft(1).log.committed)).toBe(true);
    for (const id of [1, 2, 3]) expect(c.appliedValues(id)).toEqual(values);
  });
});
