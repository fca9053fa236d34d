import { describe, expect, test } from 'vitest';
import { formatStore, summarizeStore, type MemberAnswer } from './store_status.js';

/** A Maintenance.Status answer as the etcd client decodes it (int64s as strings). */
function answer(name: string, id: string, fields: { leader: string; term: number; commit: number; applied?: number }): MemberAnswer {
  return {
    name,
    endpoint: `127.0.0.1:${name.slice(-1)}`,
    status: {
      header: { cluster_id: '1', member_id: id, revision: '1', raft_term: String(fields.term) },
      version: '3.4.0+k8ts',
      dbSize: '0',
      leader: fields.leader,
      raftIndex: String(fields.commit),
      raftTerm: String(fields.term),
      raftAppliedIndex: String(fields.applied ?? fields.commit),
      errors: [],
      dbSizeInUse: '0',
      isLearner: false,
    },
  } as MemberAnswer;
}

describe('summarizeStore', () => {
  test('names the leader by its member id and gives each follower its lag behind the leader’s commit index', () => {
    const summary = summarizeStore([
      answer('store-1', '11', { leader: '22', term: 3, commit: 118, applied: 117 }),
      answer('store-2', '22', { leader: '22', term: 3, commit: 120 }),
      answer('store-3', '33', { leader: '22', term: 3, commit: 120 }),
    ]);
    expect(summary.leader).toBe('store-2');
    expect(summary.term).toBe(3);
    expect(summary.members.map((m) => [m.name, m.role, m.lag])).toEqual([
      ['store-1', 'follower', 2],
      ['store-2', 'leader', undefined],
      ['store-3', 'follower', 0],
    ]);
    expect(formatStore(summary)).toEqual([
      'store: leader store-2, term 3',
      '  store-1    follower  term 3  commit 118  applied 117  lag 2',
      '  store-2    leader    term 3  commit 120  applied 120',
      '  store-3    follower  term 3  commit 120  applied 120  lag 0',
    ]);
  });

  test('believes the highest term: a deposed leader cut off still names itself in an older one', () => {
    const summary = summarizeStore([
      answer('store-1', '11', { leader: '11', term: 2, commit: 90 }),
      answer('store-2', '22', { leader: '33', term: 4, commit: 130 }),
      answer('store-3', '33', { leader: '33', term: 4, commit: 131 }),
    ]);
    expect(summary.leader).toBe('store-3');
    expect(summary.members.find((m) => m.name === 'store-1')).toMatchObject({ role: 'follower', lag: 41 });
  });

  test('an unreachable member is shown with its error; with the leader unreachable, lag is unknown', () => {
    const summary = summarizeStore([
      { name: 'store-1', endpoint: '127.0.0.1:1', status: '14 UNAVAILABLE: No connection established' },
      answer('store-2', '22', { leader: '11', term: 5, commit: 10 }),
      answer('store-3', '33', { leader: '0', term: 5, commit: 10 }),
    ]);
    expect(summary.leader).toBeUndefined();
    expect(formatStore(summary)).toEqual([
      'store: no leader (term 5)',
      '  store-1    unreachable (14 UNAVAILABLE: No connection established)',
      '  store-2    follower  term 5  commit 10  applied 10  lag unknown',
      '  store-3    follower  term 5  commit 10  applied 10  lag unknown',
    ]);
  });
});
