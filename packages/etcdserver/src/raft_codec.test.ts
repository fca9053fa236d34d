import { loadRaftTransport, type RaftMessage } from '@k8ts/proto';
import { EntryType, MessageType } from '@k8ts/raft';
import { describe, expect, it } from 'vitest';
import { decodePeerMessage, encodePeerMessage, type PeerMessage } from './raft_codec.js';

/** proto-loader's generic codec of the same .proto: the reference our bytes must agree with. */
const generic = loadRaftTransport().RaftTransport.service['Send'];
if (generic === undefined) throw new Error('RaftTransport.Send missing');
const genericEncode = (wire: object): Buffer => generic.requestSerialize(wire);
const genericDecode = (bytes: Buffer): RaftMessage => generic.requestDeserialize(bytes) as RaftMessage;

const base: PeerMessage = {
  clusterId: 0,
  type: MessageType.Heartbeat,
  from: 0,
  to: 0,
  term: 0,
  index: 0,
  logTerm: 0,
  entries: [],
  commit: 0,
  reject: false,
  rejectHintIndex: 0,
  rejectHintTerm: 0,
};

const samples: PeerMessage[] = [
  { ...base, clusterId: 2 ** 53 - 1, from: 1, to: 2, term: 3, commit: 9 },
  // Member and cluster ids use all 64 bits, with low bits zero so that a double holds them exactly.
  { ...base, clusterId: 0xad243ce7add30000, from: 0xa593ac333f420000, to: 0xffff_ffff_ffff_f800, term: 2, commit: 2 ** 49 },
  {
    ...base,
    clusterId: 0x1234_5678_9abc,
    type: MessageType.Append,
    from: 8_000_000_000_000,
    to: 1,
    term: 300,
    index: 127,
    logTerm: 128,
    commit: 16_384,
    entries: [
      { index: 128, term: 300, type: EntryType.Normal, data: new Uint8Array(0) },
      { index: 129, term: 300, type: EntryType.Normal, data: new Uint8Array(Array.from({ length: 1500 }, (_, i) => i % 256)) },
      { index: 130, term: 300, type: EntryType.Membership, data: new TextEncoder().encode('{"voters":[1,2]}') },
    ],
  },
  { ...base, type: MessageType.AppendResponse, from: 2, to: 1, term: 7, index: 40, reject: true, rejectHintIndex: 35, rejectHintTerm: 6 },
  { ...base, type: MessageType.Vote, from: 3, to: 1, term: 9, index: 50, logTerm: 8, force: true },
  { ...base, type: MessageType.ReadIndex, from: 2, to: 1, term: 4, context: 'a1b2-r17' },
  {
    ...base,
    type: MessageType.InstallSnapshot,
    from: 1,
    to: 4,
    term: 5,
    snapshot: { meta: { index: 1000, term: 5, membership: { voters: [1, 2, 2 ** 40], learners: [4] } }, data: new Uint8Array([1, 2, 3]) },
  },
  { ...base, type: 'ForwardedProposals', from: 2, to: 1, entries: [{ index: 0, term: 0, type: EntryType.Normal, data: new Uint8Array([7]) }] },
  { ...base, type: 'RefusedProposals', from: 1, to: 2, context: 'not leader', entries: [{ index: 0, term: 0, type: EntryType.Normal, data: new Uint8Array([7]) }] },
];

/** The generic decoding of a message, normalised to PeerMessage's shape for comparison. */
function fromGeneric(wire: RaftMessage): PeerMessage {
  const snapshot = wire.snapshot;
  return {
    clusterId: Number(wire.clusterId),
    type: wire.type as PeerMessage['type'],
    from: Number(wire.from),
    to: Number(wire.to),
    term: Number(wire.term),
    index: Number(wire.index),
    logTerm: Number(wire.logTerm),
    entries: wire.entries.map((entry) => ({
      index: Number(entry.index),
      term: Number(entry.term),
      type: entry.type === 'Membership' ? EntryType.Membership : EntryType.Normal,
      data: new Uint8Array(entry.data),
    })),
    commit: Number(wire.commit),
    reject: wire.reject,
    rejectHintIndex: Number(wire.rejectHintIndex),
    rejectHintTerm: Number(wire.rejectHintTerm),
    ...(snapshot
      ? {
          snapshot: {
            meta: {
              index: Number(snapshot.meta?.index),
              term: Number(snapshot.meta?.term),
              membership: { voters: (snapshot.meta?.membership?.voters ?? []).map(Number), learners: (snapshot.meta?.membership?.learners ?? []).map(Number) },
            },
            data: new Uint8Array(snapshot.data),
          },
        }
      : {}),
    ...(wire.context ? { context: wire.context } : {}),
    ...(wire.force ? { force: true } : {}),
  };
}

/** The generic encoder's input for a message. */
function toGeneric(message: PeerMessage): object {
  const exact = (value: number): string => BigInt(value).toString();
  return {
    ...message,
    clusterId: exact(message.clusterId),
    from: exact(message.from),
    to: exact(message.to),
    commit: exact(message.commit),
    entries: message.entries.map((entry) => ({ ...entry, type: entry.type === EntryType.Membership ? 'Membership' : 'Normal' })),
  };
}

describe('the RaftMessage codec', () => {
  it.each(samples.map((message) => [message.type, message] as const))('round-trips %s', (_type, message) => {
    expect(decodePeerMessage(encodePeerMessage(message))).toEqual(message);
  });

  it.each(samples.map((message) => [message.type, message] as const))('agrees with the generic protobuf codec on %s, both ways', (_type, message) => {
    expect(fromGeneric(genericDecode(encodePeerMessage(message)))).toEqual(message);
    expect(decodePeerMessage(genericEncode(toGeneric(message)))).toEqual(message);
  });

  it('copies entry data out of the received buffer (entries outlive it in the Raft log)', () => {
    const bytes = encodePeerMessage(samples.find((message) => message.type === MessageType.Append) as PeerMessage);
    const decoded = decodePeerMessage(bytes);
    bytes.fill(0);
    expect(decoded.entries[1]?.data[1]).toBe(1);
  });

  it('skips fields it does not know (a newer peer may send more)', () => {
    const known = encodePeerMessage(samples[0] as PeerMessage);
    // field 20 varint 5, field 21 length-delimited "xy", field 22 fixed32, field 23 fixed64
    const unknown = Buffer.from([0xa0, 0x01, 0x05, 0xaa, 0x01, 0x02, 0x78, 0x79, 0xb5, 0x01, 1, 2, 3, 4, 0xb9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(decodePeerMessage(Buffer.concat([unknown, known]))).toEqual(samples[0]);
  });

  it('decodes every uint64 a double holds exactly, however wide, and only those', () => {
    // A mantissa of up to 53 bits shifted up to the top of the 64: exact in a double, so decoded as is.
    const values = [2 ** 53, 2 ** 53 - 1, 2 ** 63, 2 ** 63 + 2 ** 11, 2 ** 64 - 2 ** 11];
    for (let shift = 0; shift <= 11; shift++) values.push((2 ** 53 - 1 - shift * 977) * 2 ** shift);
    for (const term of values) {
      expect(decodePeerMessage(encodePeerMessage({ ...base, term })).term).toBe(term);
    }
    // 2^63 + 2^10 spans 54 bits: a double would round it.
    const wide = [0x10, 0x07, 0x28, 0x80, 0x88, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
    expect(() => decodePeerMessage(Buffer.from(wide))).toThrow('holds 9223372036854776832, a uint64 a double cannot hold exactly');
  });

  it('refuses malformed bytes with a reason instead of guessing', () => {
    const append = encodePeerMessage(samples.find((message) => message.type === MessageType.Append) as PeerMessage);
    expect(() => decodePeerMessage(append.subarray(0, append.length - 10))).toThrow(/truncated/);
    expect(() => decodePeerMessage(Buffer.from([0x10, 0x63]))).toThrow('unknown raft message type 99');
    expect(() => decodePeerMessage(Buffer.from([]))).toThrow('unknown raft message type 0');
    // term = 2^53 + 1 (a uint64 a double cannot hold exactly), and 2^64 (past uint64)
    expect(() => decodePeerMessage(Buffer.from([0x10, 0x07, 0x28, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]))).toThrow('holds 9007199254740993, a uint64 a double cannot hold exactly');
    expect(() => decodePeerMessage(Buffer.from([0x10, 0x07, 0x28, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]))).toThrow(/cannot hold exactly/);
    expect(() => decodePeerMessage(Buffer.from([0x10, 0x07, 0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow(/truncated inside a varint/);
    // `from` sent length-delimited
    expect(() => decodePeerMessage(Buffer.from([0x10, 0x07, 0x1a, 0x01, 0x00]))).toThrow(/wire type/);
    expect(() => decodePeerMessage(Buffer.from([0x10, 0x07, 0x42, 0x02, 0x18, 0x07]))).toThrow('unknown raft entry type 7');
  });

  it('refuses to encode what the wire cannot carry', () => {
    expect(() => encodePeerMessage({ ...base, term: 2 ** 64 })).toThrow(/uint64/);
    expect(() => encodePeerMessage({ ...base, term: 1.5 })).toThrow(/uint64/);
    expect(() => encodePeerMessage({ ...base, from: -1 })).toThrow(/uint64/);
    expect(() => encodePeerMessage({ ...base, type: 'Gossip' as MessageType })).toThrow(/unknown raft message type/);
  });
});
