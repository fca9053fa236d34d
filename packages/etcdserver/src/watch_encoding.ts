import type { Event, KeyValue } from '@k8ts/mvcc';
import type { ResponseHeader } from './server.js';

/**
 * etcdserverpb.WatchResponse with events, encoded by hand. A put reaches every watcher of its key:
 * through proto-loader each watcher's response was built as objects and encoded on its own (the
 * largest item in a profile of 100 watchers). Here an event is encoded once, kept with the event,
 * and its bytes are copied into every response that carries it. Zero values are left out, as
 * etcd's gogo/protobuf code leaves them out; any protobuf decoder reads the same message.
 */

const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** Each event's bytes as a WatchResponse `events` field (tag, length, Event), made once per event. */
const encodedEvents = new WeakMap<Event, Buffer>();

export function encodeWatchEvents(header: ResponseHeader, watchId: number, events: readonly Event[]): Buffer {
  const headerField = encodeHeaderField(header);
  const eventFields = events.map(eventField);
  // The watch id (never negative here) is the only part written per response: one allocation.
  let size = headerField.length + 1 + varintLength(watchId);
  for (const field of eventFields) size += field.length;
  const out = Buffer.allocUnsafe(size);
  let offset = headerField.copy(out, 0);
  out[offset++] = (2 << 3) | VARINT;
  for (let rest = watchId; ; rest = Math.floor(rest / 128)) {
    if (rest < 128) {
      out[offset++] = rest;
      break;
    }
    out[offset++] = (rest % 128) | 0x80;
  }
  for (const field of eventFields) offset += field.copy(out, offset);
  return out;
}

function varintLength(value: number): number {
  let length = 1;
  for (let rest = value; rest >= 128; rest = Math.floor(rest / 128)) length++;
  return length;
}

function eventField(event: Event): Buffer {
  let bytes = encodedEvents.get(event);
  if (bytes === undefined) {
    const parts: Buffer[] = [];
    if (event.type === 'DELETE') parts.push(varintField(1, 1n)); // mvccpb.Event.EventType: PUT = 0, DELETE = 1
    parts.push(lengthDelimitedField(2, encodeKeyValue(event.kv)));
    if (event.prevKv !== undefined) parts.push(lengthDelimitedField(3, encodeKeyValue(event.prevKv)));
    bytes = lengthDelimitedField(11, Buffer.concat(parts));
    encodedEvents.set(event, bytes);
  }
  return bytes;
}

function encodeKeyValue(kv: KeyValue): Buffer {
  return Buffer.concat([
    bytesField(1, kv.key),
    varintField(2, BigInt(kv.createRevision)),
    varintField(3, BigInt(kv.modRevision)),
    varintField(4, BigInt(kv.version)),
    bytesField(5, kv.value),
    varintField(6, BigInt(kv.lease)),
  ]);
}

/** The header field of the last response, reused while the header stays (every watcher of one put). */
let lastHeader: { readonly header: ResponseHeader; readonly field: Buffer } | undefined;

function encodeHeaderField(header: ResponseHeader): Buffer {
  const last = lastHeader?.header;
  const same =
    last !== undefined && last.revision === header.revision && last.raft_term === header.raft_term && last.member_id === header.member_id && last.cluster_id === header.cluster_id;
  if (!same || lastHeader === undefined) {
    const bytes = Buffer.concat([
      varintField(1, BigInt(header.cluster_id)),
      varintField(2, BigInt(header.member_id)),
      varintField(3, BigInt(header.revision)),
      varintField(4, BigInt(header.raft_term)),
    ]);
    lastHeader = { header: { ...header }, field: lengthDelimitedField(1, bytes) };
  }
  return lastHeader.field;
}

const EMPTY = Buffer.alloc(0);

/** A varint field; an int64 below zero is written as its 64-bit two's complement (ten bytes), as protobuf does. */
function varintField(field: number, value: bigint): Buffer {
  if (value === 0n) return EMPTY;
  let rest = BigInt.asUintN(64, value);
  const bytes = [(field << 3) | VARINT];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}

function bytesField(field: number, value: Uint8Array): Buffer {
  return value.byteLength === 0 ? EMPTY : lengthDelimitedField(field, value);
}

function lengthDelimitedField(field: number, value: Uint8Array): Buffer {
  const prefix = [(field << 3) | LENGTH_DELIMITED];
  let length = value.byteLength;
  while (length >= 0x80) {
    prefix.push((length & 0x7f) | 0x80);
    length >>>= 7;
  }
  prefix.push(length);
  return Buffer.concat([Buffer.from(prefix), value]);
}
