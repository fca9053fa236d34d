import { EntryType, MessageType, type Entry, type Message, type Snapshot } from '@k8ts/raft';
import { FIXED32, FIXED64, LENGTH_DELIMITED, ProtobufWriter, VARINT, lengthDelimitedSize, packedSize, varintFieldSize } from './protobuf_writer.js';

/**
 * k8ts.raftpb.RaftMessage (proto/k8ts/raftpb.proto) encoded and decoded by hand, straight from and
 * to Raft's `Message`. The bytes are plain proto3, the same as any protobuf library writes for that
 * message; what the hand-written codec saves is the trip through generic objects (decimal strings
 * for uint64, enum names, defaults) that every Raft message took on each member, several times per
 * write.
 */

/** A message on the peer stream: a Raft message, or proposals forwarded to or refused by the leader. */
export type PeerMessageType = MessageType | 'ForwardedProposals' | 'RefusedProposals';

export interface PeerMessage extends Omit<Message, 'type'> {
  readonly clusterId: number;
  readonly type: PeerMessageType;
}

/** RaftMessage.Type's names by number (0 is Unspecified: a message without a type is refused). */
const TYPE_NAMES: readonly (PeerMessageType | undefined)[] = [
  undefined,
  MessageType.Vote,
  MessageType.VoteResponse,
  MessageType.PreVote,
  MessageType.PreVoteResponse,
  MessageType.Append,
  MessageType.AppendResponse,
  MessageType.Heartbeat,
  MessageType.HeartbeatResponse,
  MessageType.InstallSnapshot,
  MessageType.TimeoutNow,
  MessageType.ReadIndex,
  MessageType.ReadIndexResponse,
  'ForwardedProposals',
  'RefusedProposals',
];
const TYPE_NUMBERS = new Map<PeerMessageType, number>(
  TYPE_NAMES.flatMap((name, number) => (name === undefined ? [] : [[name, number] as const])),
);

// ---- sizes ----

function entrySize(entry: Entry): number {
  return (
    varintFieldSize(entry.index) +
    varintFieldSize(entry.term) +
    varintFieldSize(entry.type) +
    (entry.data.byteLength === 0 ? 0 : lengthDelimitedSize(entry.data.byteLength))
  );
}

function membershipSize(snapshot: Snapshot): number {
  const { voters, learners } = snapshot.meta.membership;
  return (voters.length === 0 ? 0 : lengthDelimitedSize(packedSize(voters))) + (learners.length === 0 ? 0 : lengthDelimitedSize(packedSize(learners)));
}

function metaSize(snapshot: Snapshot): number {
  return varintFieldSize(snapshot.meta.index) + varintFieldSize(snapshot.meta.term) + lengthDelimitedSize(membershipSize(snapshot));
}

function snapshotSize(snapshot: Snapshot): number {
  return lengthDelimitedSize(metaSize(snapshot)) + (snapshot.data.byteLength === 0 ? 0 : lengthDelimitedSize(snapshot.data.byteLength));
}

// ---- encoding ----

const TWO_TO_64 = 2 ** 64;

function checkUint(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= TWO_TO_64) throw new RangeError(`raft message ${name} ${value} is not a uint64`);
}

function typeNumberOf(type: PeerMessageType): number {
  const number = TYPE_NUMBERS.get(type);
  if (number === undefined) throw new RangeError(`unknown raft message type ${JSON.stringify(type)}`);
  return number;
}

/** The message's bytes; `reserve` leaves that many bytes free in front (a frame's length). */
export function encodePeerMessage(message: PeerMessage, reserve = 0): Buffer {
  return encodeFields(message, typeNumberOf(message.type), message.clusterId, reserve);
}

/**
 * A Raft message's bytes as a RaftMessage of cluster `clusterId`, without first copying it into a
 * PeerMessage (the send path's one encoding per message).
 */
export function encodeRaftMessage(message: Message, clusterId: number, reserve = 0): Buffer {
  return encodeFields(message, typeNumberOf(message.type), clusterId, reserve);
}

function encodeFields(message: Omit<Message, 'type'>, type: number, clusterId: number, reserve: number): Buffer {
  // Field by field rather than a loop over names: a keyed load on every message cost more than the encoding.
  checkUint('clusterId', clusterId);
  checkUint('from', message.from);
  checkUint('to', message.to);
  checkUint('term', message.term);
  checkUint('index', message.index);
  checkUint('logTerm', message.logTerm);
  checkUint('commit', message.commit);
  checkUint('rejectHintIndex', message.rejectHintIndex);
  checkUint('rejectHintTerm', message.rejectHintTerm);
  const context = message.context === undefined ? undefined : Buffer.from(message.context, 'utf8');
  const entrySizes = message.entries.map(entrySize);
  let size =
    varintFieldSize(clusterId) +
    varintFieldSize(type) +
    varintFieldSize(message.from) +
    varintFieldSize(message.to) +
    varintFieldSize(message.term) +
    varintFieldSize(message.index) +
    varintFieldSize(message.logTerm) +
    varintFieldSize(message.commit) +
    (message.reject ? 2 : 0) +
    varintFieldSize(message.rejectHintIndex) +
    varintFieldSize(message.rejectHintTerm) +
    (message.snapshot === undefined ? 0 : lengthDelimitedSize(snapshotSize(message.snapshot))) +
    (context === undefined ? 0 : lengthDelimitedSize(context.byteLength)) +
    (message.force === true ? 2 : 0);
  for (const entrySizeBytes of entrySizes) size += lengthDelimitedSize(entrySizeBytes);

  const out = new ProtobufWriter(Buffer.allocUnsafe(reserve + size), reserve);
  out.varintField(1, clusterId);
  out.varintField(2, type);
  out.varintField(3, message.from);
  out.varintField(4, message.to);
  out.varintField(5, message.term);
  out.varintField(6, message.index);
  out.varintField(7, message.logTerm);
  message.entries.forEach((entry, i) => {
    out.lengthDelimited(8, entrySizes[i] as number);
    out.varintField(1, entry.index);
    out.varintField(2, entry.term);
    out.varintField(3, entry.type);
    if (entry.data.byteLength > 0) out.bytesField(4, entry.data);
  });
  out.varintField(9, message.commit);
  if (message.reject) out.varintField(10, 1);
  out.varintField(11, message.rejectHintIndex);
  out.varintField(12, message.rejectHintTerm);
  if (message.snapshot !== undefined) {
    const snapshot = message.snapshot;
    out.lengthDelimited(13, snapshotSize(snapshot));
    out.lengthDelimited(1, metaSize(snapshot));
    out.varintField(1, snapshot.meta.index);
    out.varintField(2, snapshot.meta.term);
    out.lengthDelimited(3, membershipSize(snapshot));
    out.packedField(1, snapshot.meta.membership.voters);
    out.packedField(2, snapshot.meta.membership.learners);
    if (snapshot.data.byteLength > 0) out.bytesField(2, snapshot.data);
  }
  if (context !== undefined) out.bytesField(14, context);
  if (message.force === true) out.varintField(15, 1);
  return out.finish();
}

// ---- decoding ----

class Reader {
  offset: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.offset = start;
  }

  done(): boolean {
    return this.offset >= this.end;
  }

  /**
   * A varint as a double. Member and cluster ids are 64-bit but chosen so a double holds them
   * exactly (low bits zero); any value a double would round is refused rather than altered.
   */
  varint(): number {
    let value = 0;
    let scale = 1;
    // The lowest and highest set bit: the 7-bit groups never overlap, so the sum is exact whenever
    // the value spans at most 53 bits (a member id's low bits are zero), however large it is.
    let low = -1;
    let high = 0;
    const start = this.offset;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.end) throw new Error('raft message truncated inside a varint');
      const byte = this.bytes[this.offset++] as number;
      const bits = byte & 127;
      if (bits !== 0) {
        if (low < 0) low = 7 * i + 31 - Math.clz32(bits & -bits);
        high = 7 * i + 31 - Math.clz32(bits);
      }
      value += bits * scale;
      if (byte < 128) return high - low < 53 && high < 64 ? value : this.refuseVarint(start);
      scale *= 128;
    }
    throw new Error('raft message holds a varint longer than 10 bytes');
  }

  /** A varint a double would round, or of 2^64 and more: refused, naming its exact value. */
  private refuseVarint(start: number): number {
    let value = 0n;
    let shift = 0n;
    for (this.offset = start; this.offset < this.end && shift < 70n; shift += 7n) {
      const byte = this.bytes[this.offset++] as number;
      value |= BigInt(byte & 127) << shift;
      if (byte < 128) {
        const double = Number(value);
        if (value >= 1n << 64n || BigInt(double) !== value) throw new Error(`raft message holds ${value}, a uint64 a double cannot hold exactly`);
        return double;
      }
    }
    throw new Error(this.offset >= this.end ? 'raft message truncated inside a varint' : 'raft message holds a varint longer than 10 bytes');
  }

  /** The bounds of a length-delimited field's payload, skipped over. */
  span(): [number, number] {
    const length = this.varint();
    const start = this.offset;
    if (start + length > this.end) throw new Error('raft message truncated inside a field');
    this.offset += length;
    return [start, start + length];
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === LENGTH_DELIMITED) this.span();
    else if (wireType === FIXED64) this.offset += 8;
    else if (wireType === FIXED32) this.offset += 4;
    else throw new Error(`raft message holds an unknown wire type ${wireType}`);
    if (this.offset > this.end) throw new Error('raft message truncated inside a field');
  }

  /** Copies the bytes out: the received buffer is grpc's, and entries live on in the Raft log. */
  copy([start, end]: [number, number]): Uint8Array {
    const out = new Uint8Array(end - start);
    out.set(this.bytes.subarray(start, end));
    return out;
  }

  /** A repeated uint64, packed (proto3's default) or one value per tag. */
  uints(wireType: number, into: number[]): void {
    if (wireType === VARINT) {
      into.push(this.varint());
      return;
    }
    if (wireType !== LENGTH_DELIMITED) throw new Error('raft message holds a repeated uint64 of the wrong wire type');
    const [start, end] = this.span();
    const packed = new Reader(this.bytes, start, end);
    while (!packed.done()) into.push(packed.varint());
  }
}

function expectWireType(actual: number, expected: number, field: string): void {
  if (actual !== expected) throw new Error(`raft message field ${field} has wire type ${actual}, expected ${expected}`);
}

function decodeEntry(reader: Reader): Entry {
  let index = 0;
  let term = 0;
  let type = 0;
  let data: Uint8Array = new Uint8Array(0);
  while (!reader.done()) {
    const key = reader.varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 1 && wireType === VARINT) index = reader.varint();
    else if (field === 2 && wireType === VARINT) term = reader.varint();
    else if (field === 3 && wireType === VARINT) type = reader.varint();
    else if (field === 4 && wireType === LENGTH_DELIMITED) data = reader.copy(reader.span());
    else reader.skip(wireType);
  }
  if (type !== EntryType.Normal && type !== EntryType.Membership) throw new Error(`unknown raft entry type ${type}`);
  return { index, term, type, data };
}

function decodeSnapshot(reader: Reader): Snapshot {
  let index = 0;
  let term = 0;
  const voters: number[] = [];
  const learners: number[] = [];
  let data: Uint8Array = new Uint8Array(0);
  while (!reader.done()) {
    const key = reader.varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 1) {
      expectWireType(wireType, LENGTH_DELIMITED, 'snapshot.meta');
      const [start, end] = reader.span();
      const meta = new Reader(reader.bytes, start, end);
      while (!meta.done()) {
        const metaKey = meta.varint();
        const metaField = Math.floor(metaKey / 8);
        const metaWireType = metaKey % 8;
        if (metaField === 1 && metaWireType === VARINT) index = meta.varint();
        else if (metaField === 2 && metaWireType === VARINT) term = meta.varint();
        else if (metaField === 3 && metaWireType === LENGTH_DELIMITED) {
          const [mStart, mEnd] = meta.span();
          const membership = new Reader(meta.bytes, mStart, mEnd);
          while (!membership.done()) {
            const memberKey = membership.varint();
            const memberField = Math.floor(memberKey / 8);
            const memberWireType = memberKey % 8;
            if (memberField === 1) membership.uints(memberWireType, voters);
            else if (memberField === 2) membership.uints(memberWireType, learners);
            else membership.skip(memberWireType);
          }
        } else meta.skip(metaWireType);
      }
    } else if (field === 2 && wireType === LENGTH_DELIMITED) data = reader.copy(reader.span());
    else reader.skip(wireType);
  }
  return { meta: { index, term, membership: { voters, learners } }, data };
}

/** Decodes and checks a received RaftMessage; throws on anything malformed. */
export function decodePeerMessage(bytes: Uint8Array): PeerMessage {
  const reader = new Reader(bytes, 0, bytes.byteLength);
  let clusterId = 0;
  let typeNumber = 0;
  let from = 0;
  let to = 0;
  let term = 0;
  let index = 0;
  let logTerm = 0;
  const entries: Entry[] = [];
  let commit = 0;
  let reject = false;
  let rejectHintIndex = 0;
  let rejectHintTerm = 0;
  let snapshot: Snapshot | undefined;
  let context: string | undefined;
  let force = false;
  while (!reader.done()) {
    const key = reader.varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    switch (field) {
      case 1: expectWireType(wireType, VARINT, 'clusterId'); clusterId = reader.varint(); break;
      case 2: expectWireType(wireType, VARINT, 'type'); typeNumber = reader.varint(); break;
      case 3: expectWireType(wireType, VARINT, 'from'); from = reader.varint(); break;
      case 4: expectWireType(wireType, VARINT, 'to'); to = reader.varint(); break;
      case 5: expectWireType(wireType, VARINT, 'term'); term = reader.varint(); break;
      case 6: expectWireType(wireType, VARINT, 'index'); index = reader.varint(); break;
      case 7: expectWireType(wireType, VARINT, 'logTerm'); logTerm = reader.varint(); break;
      case 8: {
        expectWireType(wireType, LENGTH_DELIMITED, 'entries');
        const [start, end] = reader.span();
        entries.push(decodeEntry(new Reader(bytes, start, end)));
        break;
      }
      case 9: expectWireType(wireType, VARINT, 'commit'); commit = reader.varint(); break;
      case 10: expectWireType(wireType, VARINT, 'reject'); reject = reader.varint() !== 0; break;
      case 11: expectWireType(wireType, VARINT, 'rejectHintIndex'); rejectHintIndex = reader.varint(); break;
      case 12: expectWireType(wireType, VARINT, 'rejectHintTerm'); rejectHintTerm = reader.varint(); break;
      case 13: {
        expectWireType(wireType, LENGTH_DELIMITED, 'snapshot');
        const [start, end] = reader.span();
        snapshot = decodeSnapshot(new Reader(bytes, start, end));
        break;
      }
      case 14: {
        expectWireType(wireType, LENGTH_DELIMITED, 'context');
        const [start, end] = reader.span();
        context = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
        break;
      }
      case 15: expectWireType(wireType, VARINT, 'force'); force = reader.varint() !== 0; break;
      default: reader.skip(wireType);
    }
  }
  const type = TYPE_NAMES[typeNumber];
  if (type === undefined) throw new Error(`unknown raft message type ${typeNumber}`);
  // Built as a literal and completed by assignment, not spread: spreading built a slow object that
  // every later read of the message paid for.
  const message: Mutable<PeerMessage> = { clusterId, type, from, to, term, index, logTerm, entries, commit, reject, rejectHintIndex, rejectHintTerm };
  if (snapshot !== undefined) message.snapshot = snapshot;
  // Like the generic decoding before it: an empty context is no context.
  if (context) message.context = context;
  if (force) message.force = true;
  return message;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A Raft message as a PeerMessage of cluster `clusterId` (for the gRPC path, which takes objects). */
export function toPeerMessage(message: Message, clusterId: number): PeerMessage {
  return { ...message, clusterId };
}

/** A received peer message as the Raft message it carries (the transport-only fields dropped). */
export function toRaftMessage(peer: PeerMessage): Message {
  const message: Mutable<Message> = {
    type: peer.type as MessageType,
    from: peer.from,
    to: peer.to,
    term: peer.term,
    index: peer.index,
    logTerm: peer.logTerm,
    entries: peer.entries,
    commit: peer.commit,
    reject: peer.reject,
    rejectHintIndex: peer.rejectHintIndex,
    rejectHintTerm: peer.rejectHintTerm,
  };
  if (peer.snapshot !== undefined) message.snapshot = peer.snapshot;
  if (peer.context !== undefined) message.context = peer.context;
  if (peer.force !== undefined) message.force = peer.force;
  return message;
}
