import { describe, expect, test } from 'vitest';
import { ScriptedCluster, decode, to } from '../sim/scripted_cluster.js';
import { MessageType } from './index.js';

describe('snapshots (§7)', () => {
  test('a follower that was down while the leader compacted gets the snapshot, then the entries after it', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3]);
    c.crash(3);
    for (const value of ['a', 'b', 'c']) c.propose(1, value);
    c.deliver();
    // The leader snapshots its state machine at index 5 and drops the log up to it.
    expect(c.raft(1).log.applied).toBe(5);
    c.compact(1);
    expect(c.raft(1).log.firstIndex()).toBe(6);
    for (const value of ['d', 'e']) c.propose(1, value);
    c.deliver();
    expect(c.raft(1).log.committed).toBe(7);

    // 3 comes back knowing only indexes 1 and 2. The leader no longer has 3..5 to send.
    c.restart(3);
    c.tick(1);
    const toThree = c.deliverEach().filter(to(3));
    const snapshotAt = toThree.findIndex((m) => m.type === MessageType.InstallSnapshot);
    expect(toThree[snapshotAt]?.snapshot?.meta).toMatchObject({ index: 5, term: 2 });
    // Only after the snapshot do the entries 6 and 7 follow.
    const entriesAt = toThree.findIndex((m) => m.type === MessageType.Append && m.entries.length > 0);
    expect(entriesAt).toBeGreaterThan(snapshotAt);
    expect(toThree[entriesAt]).toMatchObject({ index: 5, logTerm: 2 });
    expect(toThree[entriesAt]?.entries.map((entry) => entry.index)).toEqual([6, 7]);

    // 3's disk now holds the snapshot and the entries after it...
    const disk = c.node(3).disk;
    expect(disk.snapshot === undefined ? undefined : decode(disk.snapshot.data)).toBe('snapshot@5');
    expect(disk.entries.map((entry) => entry.index)).toEqual([6, 7]);
    // ...and its state machine went, in order: its own entries 1..2 (replayed on restart), the
    // snapshot for 3..5, then entries 6 and 7.
    expect(c.node(3).applied.map((entry) => entry.index)).toEqual([1, 2, 6, 7]);
    expect(c.appliedValues(3)).toEqual(['d', 'e']);
    expect(c.raft(3).status()).toMatchObject({ snapshotIndex: 5, commit: 7, applied: 7, lastIndex: 7 });
  });

  test('a restarted node recovers from its snapshot and the entries after it on disk', () => {
    const c = ScriptedCluster.withLeader([1, 2, 3]);
    for (const value of ['a', 'b', 'c']) c.propose(1, value);
    c.deliver();
    c.compact(2);
    for (const value of ['d', 'e']) c.propose(1, value);
    c.deliver();
    expect(c.node(2).disk.snapshot?.meta.index).toBe(5);
    expect(c.node(2).disk.entries.map((entry) => entry.index)).toEqual([6, 7]);

    c.crash(2);
    c.restart(2);
    // The log starts after the snapshot; the commit index survives in the hard state, so the
    // state machine (restored from the snapshot) re-applies 6 and 7 at once.
    expect(c.raft(2).status()).toMatchObject({ term: 2, snapshotIndex: 5, lastIndex: 7, commit: 7, applied: 7 });
    expect(c.logTerms(2)).toEqual([2, 2]);
    expect(c.appliedValues(2)).toEqual(['a', 'b', 'c', 'd', 'e']);

    // And it goes on replicating as before.
    c.propose(1, 'f');
    c.deliver();
    expect(c.appliedValues(2)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });
});
