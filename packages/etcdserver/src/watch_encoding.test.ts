import { loadEtcdApi } from '@k8ts/proto';
import { describe, expect, test } from 'vitest';
import { del, put } from './test_support.js';
import { encodeWatchEvents } from './watch_encoding.js';
import { eventToWire } from './wire.js';

const method = loadEtcdApi().Watch.service['Watch'];
const serialize = method?.responseSerialize as (response: object) => Buffer;
const deserialize = method?.responseDeserialize as (bytes: Buffer) => object;
const header = { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: '1234567', raft_term: '3' };

describe('encodeWatchEvents', () => {
  test.each([
    ['a put', [put('a', 5)]],
    ['a put and a delete', [put('a', 5), del('b', 6)]],
    ['prev_kv and a lease past 2^53', [put('key', 70_000, 'old', '7587882916148226570')]],
    ['a negative lease id (int64)', [put('key', 8, undefined, '-5')]],
    ['an empty value', [put('empty', 9, undefined, '0', '')]],
    ['a large value', [put('big', 9, undefined, '0', 'x'.repeat(20_000))]],
  ])('%s: a decoder reads what the proto-loader serializer would have written', (_name, events) => {
    const expected = deserialize(serialize({ header, watch_id: 2, events: events.map(eventToWire) }));
    expect(deserialize(encodeWatchEvents(header, 2, events))).toEqual(expected);
  });

  test('one event in responses to many watchers: the same bytes, each with its own watch id', () => {
    const event = put('shared', 11);
    const one = encodeWatchEvents(header, 1, [event]);
    const two = encodeWatchEvents(header, 300, [event]);
    expect((deserialize(one) as { watch_id: string }).watch_id).toBe('1');
    expect((deserialize(two) as { watch_id: string }).watch_id).toBe('300');
    expect(one.subarray(-20)).toEqual(two.subarray(-20));
  });
});
