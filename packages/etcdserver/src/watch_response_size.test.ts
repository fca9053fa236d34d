import { loadEtcdApi } from '@k8ts/proto';
import { describe, expect, test } from 'vitest';
import { watchResponseBytes } from './watch_response_size.js';
import { eventToWire } from './wire.js';
import { del, put } from './test_support.js';

const serialize = loadEtcdApi().Watch.service['Watch']?.responseSerialize as (response: object) => Buffer;
const header = { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: '1234567', raft_term: '3' };

describe('watchResponseBytes', () => {
  test.each([
    ['created', { header, watch_id: 0, created: true }],
    ['duplicate id refused', { header, watch_id: -1, created: true, canceled: true, cancel_reason: 'mvcc: duplicate watch ID provided on the WatchStream' }],
    ['cancelled', { header, watch_id: 7, canceled: true }],
    ['compacted', { header, watch_id: 300, canceled: true, compact_revision: 99_999, cancel_reason: 'mvcc: required revision has been compacted' }],
    ['progress', { header, watch_id: -1 }],
    ['events', { header, watch_id: 2, events: [put('a', 5), del('b', 6)].map(eventToWire) }],
    ['events with prev_kv and a lease', { header, watch_id: 2, events: [put('key', 70_000, 'old', '7587882916148226570')].map(eventToWire) }],
    ['a large value', { header, watch_id: 1, events: [put('big', 9, undefined, '0', 'x'.repeat(300_000))].map(eventToWire) }],
  ])('%s: the size the gRPC serializer writes', (_name, response) => {
    expect(watchResponseBytes(response)).toBe(serialize(response).length);
  });
});
