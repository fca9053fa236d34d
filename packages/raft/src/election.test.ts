import { describe, expect, test } from 'vitest';
import { ScriptedCluster, among, between, from, to, type MessageFilter, and } from '../sim/scripted_cluster.js';
import { MessageType, Role, type NodeId } from './index.js';

const ELECTION_TIMEOUT = 10; // ScriptedCluster's default; every node waits exactly this long

const voteRequests: MessageFilter = (m) => m.type === MessageType.Vote;
const voteResponses: MessageFilter = (m) => m.type === MessageType.VoteResponse;

/** One round of time: every listed node ticks once, then the network delivers what it can. */
function tickRounds(c: ScriptedCluster, ids: readonly NodeId[], rounds: number): void {
  for (let round = 0; round < rounds; round++) {
    for (const id of ids) c.tick(id);
    c.deliver();
  }
}

describe('leader election (§5.2)', () => {
  test('the first node whose election timer fires becomes leader, and everyone follows it', () => {
    const c = new ScriptedCluster([1, 2, 3]);
    c.tick(1, ELECTION_TIMEOUT);
    c.deliver();

    expect(c.leader()).toBe(1);
    for (const id of [1, 2, 3]) {
      expect(c.raft(id).status()).toMatchObject({ term: 2, leader: 1 });
    }
    expect(c.raft(2).role).toBe(Role.Follower);
    expect(c.raft(3).role).toBe(Role.Follower);
    // The new leader's empty entry of term 2 is replicated and committed everywhere.
    for (const id of [1, 2, 3]) {
      expect(c.logTerms(id)).toEqual([1, 2]);
      expect(c.raft(id).log.committed).toBe(2);
    }
  });

  test('a candidate whose log lacks a committed entry cannot win (§5.4.1)', () => {
    const c = new ScriptedCluster([1, 2, 3], { preVote: false, checkQuorum: false });
    c.campaign(1);
    c.deliver();
    // "x" is committed by 1 and 2; 3 never sees it.
    expect(c.propose(1, 'x')).toMatchObject({ ok: true, index: 3 });
    c.deliver(between(1, 2));
    c.drop(to(3));
    expect(c.raft(1).log.committed).toBe(3);
    expect(c.logTerms(3)).toEqual([1, 2]);

    // The leader crashes. 3 campaigns first, but 2 holds a newer log and refuses its vote.
    c.crash(1);
    c.campaign(3);
    const responses = c.deliverEach(between(2, 3)).filter(voteResponses);
    expect(responses).toMatchObject([{ from: 2, to: 3, term: 3, reject: true }]);
    expect(c.raft(3).role).toBe(Role.Candidate);
    expect(c.raft(2).vote).toBe(0);

    // 2 campaigns next; 3's log is no newer than 2's, so it grants, and "x" survives.
    c.campaign(2);
    c.deliver();
    expect(c.raft(2)).toMatchObject({ role: Role.Leader, term: 4 });
    expect(c.logTerms(3)).toEqual([1, 2, 2, 4]);
    expect(c.appliedValues(3)).toEqual(['x']);
  });

  test('the last term decides before the length: a longer log of an older term is less up to date', () => {
    // 1 holds more entries, but 2 and 3 hold an entry of a later term.
    const logs = new Map<NodeId, number[]>([
      [1, [1, 1, 1, 1]],
      [2, [1, 2]],
      [3, [1, 2]],
    ]);
    const c = ScriptedCluster.withLogs(logs, 2, { preVote: false, checkQuorum: false });

    c.campaign(1);
    const refusals = c.deliverEach().filter(voteResponses);
    expect(refusals).toMatchObject([
      { from: 2, reject: true },
      { from: 3, reject: true },
    ]);
    expect(c.raft(1)).toMatchObject({ role: Role.Follower, term: 3 });

    c.campaign(2);
    c.deliver();
    expect(c.raft(2)).toMatchObject({ role: Role.Leader, term: 4 });
    // 1's extra entries of term 1 were never committed; they are replaced by the leader's.
    for (const id of [1, 2, 3]) expect(c.logTerms(id)).toEqual([1, 2, 4]);
  });

  test('a node grants at most one vote per term, first come first served', () => {
    const c = new ScriptedCluster([1, 2, 3], { preVote: false, checkQuorum: false });
    // 1 and 2 time out together and both ask 3 for its vote in term 2; 1 asks first.
    c.campaign(1);
    c.campaign(2);
    c.deliver(and(voteRequests, to(3)));

    const answers = c.mailbox.filter(and(voteResponses, from(3)));
    expect(answers).toMatchObject([
      { to: 1, term: 2, reject: false },
      { to: 2, term: 2, reject: true },
    ]);
    expect(c.raft(3).vote).toBe(1);

    c.deliver();
    expect(c.leader()).toBe(1);
    expect(c.raft(2)).toMatchObject({ role: Role.Follower, term: 2 });
  });

  test('the vote is on disk before the answer leaves, so a restart cannot vote twice', () => {
    const c = new ScriptedCluster([1, 2, 3], { preVote: false, checkQuorum: false });
    c.campaign(1);
    c.campaign(2);
    c.deliverOne(and(voteRequests, from(1), to(3)));
    expect(c.node(3).disk.hardState).toMatchObject({ term: 2, vote: 1 });

    // 3 crashes (its granting answer is lost with it) and restarts from its disk.
    c.crash(3);
    c.restart(3);
    expect(c.raft(3)).toMatchObject({ term: 2, vote: 1 });
    c.deliverOne(and(voteRequests, from(2), to(3)));
    expect(c.mailbox.filter(and(voteResponses, from(3)))).toMatchObject([{ to: 2, term: 2, reject: true }]);
  });
});

describe('PreVote (dissertation §9.6)', () => {
  test('an isolated follower that rejoins neither bumps the term nor deposes the leader', () => {
    const c = new ScriptedCluster([1, 2, 3]);
    c.campaign(1);
    c.deliver();
    expect(c.leader()).toBe(1);

    // 3 is cut off for three election timeouts. Its timer fires again and again, but a pre-vote
    // that nobody answers leaves its term alone.
    c.isolate(3);
    tickRounds(c, [1, 2, 3], 3 * ELECTION_TIMEOUT);
    expect(c.raft(3)).toMatchObject({ role: Role.PreCandidate, term: 2 });
    expect(c.raft(1)).toMatchObject({ role: Role.Leader, term: 2 });

    // Back on the network, 3 hears the leader's heartbeat and simply follows it.
    c.heal();
    tickRounds(c, [1, 2, 3], 2);
    expect(c.leader()).toBe(1);
    for (const id of [1, 2, 3]) expect(c.raft(id).status()).toMatchObject({ term: 2, leader: 1 });
  });

  test('without PreVote the same rejoining follower disrupts the cluster with its inflated term', () => {
    const c = new ScriptedCluster([1, 2, 3], { preVote: false });
    c.campaign(1);
    c.deliver();

    c.isolate(3);
    tickRounds(c, [1, 2, 3], 3 * ELECTION_TIMEOUT);
    // A real election each time: term 2 + 3 timeouts.
    expect(c.raft(3)).toMatchObject({ role: Role.Candidate, term: 5 });

    c.heal();
    tickRounds(c, [1, 2, 3], 1);
    // 3 answers the leader's heartbeat with its term 5, and the leader of term 2 steps down.
    expect(c.raft(1)).toMatchObject({ role: Role.Follower, term: 5 });
  });
});

describe('CheckQuorum (dissertation §6.2)', () => {
  test('a leader that hears from no quorum for a whole election timeout steps down', () => {
    const c = new ScriptedCluster([1, 2, 3]);
    c.campaign(1);
    c.deliver();
    c.isolate(1);

    // The first check (after one timeout) still counts the acknowledgements of the election;
    // the next one finds that nobody answered since.
    let steppedDownAt = 0;
    for (let t = 1; t <= 3 * ELECTION_TIMEOUT && steppedDownAt === 0; t++) {
      c.tick(1);
      c.deliver();
      if (c.raft(1).role !== Role.Leader) steppedDownAt = t;
    }
    expect(steppedDownAt).toBeGreaterThanOrEqual(ELECTION_TIMEOUT);
    expect(steppedDownAt).toBeLessThanOrEqual(2 * ELECTION_TIMEOUT);
    // Stepping down does not change the term: 1 just stops claiming to lead.
    expect(c.raft(1).status()).toMatchObject({ role: Role.Follower, term: 2, leader: 0 });
  });

  test('without CheckQuorum an isolated leader believes it leads forever', () => {
    const c = new ScriptedCluster([1, 2, 3], { checkQuorum: false });
    c.campaign(1);
    c.deliver();
    c.isolate(1);
    c.tick(1, 10 * ELECTION_TIMEOUT);
    expect(c.raft(1).role).toBe(Role.Leader);
  });
});

describe('a leader isolated in a minority (§5.3, §5.4)', () => {
  test('cannot commit; the majority elects a new leader; on healing the old leader steps down and its entries are replaced', () => {
    // No PreVote, no CheckQuorum: the old leader keeps leading until it hears of a newer term.
    const c = new ScriptedCluster([1, 2, 3, 4, 5], { preVote: false, checkQuorum: false });
    c.campaign(1);
    c.deliver();
    expect(c.leader()).toBe(1);

    const minority = among([1, 2]);
    const majority = among([3, 4, 5]);
    const partitioned = (): void => {
      c.deliver((m) => minority(m) || majority(m));
      c.drop(() => true); // whatever crosses the partition is lost
    };

    // The old leader's write reaches 2, but two of five is no majority.
    expect(c.propose(1, 'lost')).toMatchObject({ ok: true, index: 3, term: 2 });
    partitioned();
    expect(c.logTerms(2)).toEqual([1, 2, 2]);
    expect(c.raft(1).log.committed).toBe(2);

    // 3's timer fires; 4 and 5 elect it in term 3, and it commits a write of its own.
    c.tick(3, ELECTION_TIMEOUT);
    partitioned();
    expect(c.raft(3)).toMatchObject({ role: Role.Leader, term: 3 });
    expect(c.propose(3, 'won')).toMatchObject({ ok: true, index: 4, term: 3 });
    partitioned();
    expect(c.raft(3).log.committed).toBe(4);
    // Two leaders at once, but of different terms: Election Safety holds.
    expect(c.raft(1)).toMatchObject({ role: Role.Leader, term: 2 });

    // The partition heals; the new leader's heartbeat reaches everyone.
    c.tick(3);
    c.deliver();
    expect(c.raft(1)).toMatchObject({ role: Role.Follower, term: 3, leader: 3 });
    for (const id of [1, 2, 3, 4, 5]) {
      expect(c.logTerms(id)).toEqual([1, 2, 3, 3]);
      expect(c.appliedValues(id)).toEqual(['won']);
    }
  });
});
