import { describe, expect, test } from 'vitest';
import { SafetyViolation } from '../sim/checker.js';
import { ScriptedCluster, among, between, to, type MessageFilter, carries, not, and } from '../sim/scripted_cluster.js';
import { MessageType, Role } from './index.js';

const votes: MessageFilter = (m) => m.type === MessageType.Vote || m.type === MessageType.VoteResponse;

/**
 * Figure 8 of the Raft paper with five servers. One entry per append, no PreVote or CheckQuorum,
 * so the story runs exactly as the paper draws it.
 */
function figure8(unsafe: boolean): ScriptedCluster {
  const c = new ScriptedCluster([1, 2, 3, 4, 5], {
    preVote: false,
    checkQuorum: false,
    maxSizePerMessageBytes: 1,
    unsafe: { commitEntriesOfEarlierTerms: unsafe },
  });
  // (a) S1 leads term 2; its no-op at index 2 commits everywhere. It writes "a" at index 3 and
  // gets it to S2 only before crashing.
  c.campaign(1);
  c.deliver();
  expect(c.raft(1).role).toBe(Role.Leader);
  expect(c.propose(1, 'a')).toMatchObject({ ok: true, index: 3, term: 2 });
  c.deliver(between(1, 2));
  c.crash(1);

  // (b) S5 wins term 3 with S3 and S4, writes its no-op at index 3, and crashes before sending it.
  c.campaign(5);
  c.deliver(and(among([3, 4, 5]), votes));
  expect(c.raft(5).role).toBe(Role.Leader);
  expect(c.logTerms(5)).toEqual([1, 2, 3]);
  c.crash(5);

  // (c) S1 comes back and, after one lost election, wins term 4 with S2 and S3. Its first appends
  // (the no-op, index 4) are rejected by S3 and S4, which lack index 3; it backs up, replicates "a"
  // (term 2) to them, and its no-op reaches nobody yet.
  c.restart(1);
  c.campaign(1);
  c.deliver(and(among([1, 2, 3]), votes));
  c.campaign(1);
  c.deliver(and(among([1, 2, 3]), votes));
  expect(c.raft(1)).toMatchObject({ role: Role.Leader, term: 4 });
  c.deliverOne(and(to(3), carries(4)));
  c.deliverOne(and(to(4), carries(4)));
  c.deliver(and(among([1, 3, 4]), not(carries(4))));
  expect(c.logTerms(3)).toEqual([1, 2, 2]);
  expect(c.logTerms(4)).toEqual([1, 2, 2]);
  return c;
}

describe('figure 8: a leader commits entries of earlier terms only through one of its own', () => {
  test('"a" is on a majority but stays uncommitted until the no-op of term 4 is too', () => {
    const c = figure8(false);
    expect(c.raft(1).log.committed).toBe(2);
    c.deliver(between(1, 3));
    expect(c.raft(1).log.committed).toBe(2); // S1 and S3 hold index 4: two of five
    c.deliver(between(1, 4));
    expect(c.raft(1).log.committed).toBe(4); // three of five, and index 3 commits with it
    expect(c.appliedValues(1)).toEqual(['a']);
  });

  test('if S1 crashes first, S5 may win term 5 and erase "a": it was never committed', () => {
    const c = figure8(false);
    c.crash(1);
    c.restart(5);
    c.campaign(5);
    c.deliver(votes);
    c.campaign(5);
    c.deliver();
    expect(c.raft(5)).toMatchObject({ role: Role.Leader, term: 5 });
    for (const id of [2, 3, 4, 5]) expect(c.logTerms(id)).toEqual([1, 2, 3, 5]);
  });

  test('teeth: committing "a" by counting replicas lets S5 erase a committed entry, and the checker objects', () => {
    const c = figure8(true);
    expect(c.raft(1).log.committed).toBe(3); // the broken rule commits "a" by counting
    expect(c.appliedValues(1)).toEqual(['a']);
    c.crash(1);
    c.restart(5);
    c.campaign(5);
    c.deliver(votes);
    expect(() => {
      c.campaign(5);
      c.deliver();
    }).toThrow(SafetyViolation);
  });
});
