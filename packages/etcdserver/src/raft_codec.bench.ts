import { EntryType, MessageType, type Message } from '@k8ts/raft';
import { bench, describe } from 'vitest';
import { decodePeerMessage, encodeRaftMessage, toRaftMessage } from './raft_codec.js';

/**
 * What one peer message costs its two members, as the raft stream sends and receives it (encode
 * with the cluster id, decode, back to a Raft message):
 * `pnpm exec vitest bench packages/etcdserver/src/raft_codec.bench.ts`. Member and cluster ids
 * are full 64-bit values, as generated ids are.
 */
const clusterId = 0xad243ce7add30000;
const leader = 0xa593ac333f420000;
const follower = 0x8e9e05c521640000;
const blank: Omit<Message, 'type' | 'from' | 'to'> = { term: 5, index: 123456, logTerm: 5, entries: [], commit: 123455, reject: false, rejectHintIndex: 0, rejectHintTerm: 0 };
const append: Message = { ...blank, type: MessageType.Append, from: leader, to: follower, entries: [{ index: 123457, term: 5, type: EntryType.Normal, data: new Uint8Array(300).fill(7) }] };
const answer: Message = { ...blank, type: MessageType.AppendResponse, from: follower, to: leader, index: 123457 };

function roundTrip(message: Message): number {
  const bytes = encodeRaftMessage(message, clusterId, 4);
  return toRaftMessage(decodePeerMessage(bytes.subarray(4))).index;
}

describe('a peer message, sent and received', () => {
  bench('an append of one 300-byte entry', () => {
    roundTrip(append);
  });
  bench('its answer', () => {
    roundTrip(answer);
  });
});
