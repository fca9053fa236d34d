import type { StatusResponse } from '@k8ts/proto';
import { describe, expect, it } from 'vitest';
import { followersFirst } from './suite.js';

/** A member's answer to Maintenance.Status: it is `self`, and names `leader` ('0' for none). */
function status(self: string, leader: string): StatusResponse {
  return {
    header: { cluster_id: '1', member_id: self, revision: '1', raft_term: '2' },
    version: '3.4.23',
    dbSize: '0',
    leader,
    raftIndex: '1',
    raftTerm: '2',
    raftAppliedIndex: '1',
    errors: [],
    dbSizeInUse: '0',
    isLearner: false,
  };
}

describe('followersFirst (connection 0, the one client of put-sequential, lands on a follower)', () => {
  const endpoints = ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'];

  it('puts the leader last and keeps the followers in their order', () => {
    expect(followersFirst(endpoints, [status('a', 'a'), status('b', 'a'), status('c', 'a')])).toEqual(['127.0.0.1:2', '127.0.0.1:3', '127.0.0.1:1']);
    expect(followersFirst(endpoints, [status('a', 'b'), status('b', 'b'), status('c', 'b')])).toEqual(['127.0.0.1:1', '127.0.0.1:3', '127.0.0.1:2']);
    expect(followersFirst(endpoints, [status('a', 'c'), status('b', 'c'), status('c', 'c')])).toEqual(endpoints);
  });

  it('keeps the given order when no member reports itself leader', () => {
    expect(followersFirst(endpoints, [status('a', '0'), 'deadline exceeded', status('c', 'b')])).toEqual(endpoints);
  });
});
