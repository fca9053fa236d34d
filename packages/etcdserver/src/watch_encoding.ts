import type { Event, KeyValue } from '@k8ts/mvcc';
import { ProtobufWriter, VARINT, bigVarintFieldSize, lengthDelimitedSize, varintFieldSize, varintSize } from './protobuf_writer.js';
import type { ResponseHeader } from './server.js';

/**
 * etcdserverpb.WatchResponse with events, encoded by hand. A put reaches every watcher of its key:
 * through proto-loader each watcher's response was built as objects and encoded on its own (the
 * largest item in a profile of 100 watchers). Here an event is encoded once, kept with the event,
 * and its bytes are copied into every response that carries it. Zero values are left out, as
 * etcd's gogo/protobuf code leaves them out; any protobuf decoder reads the same message.
 */

/** Each event's bytes as a WatchResponse `events` field (tag, length, Event), made once per event. */
const encodedEvents = new WeakMap<Event, Buffer>();

export function encodeWatchEvents(header: ResponseHeader, watchId: number, events: readonly Event[]): Buffer {
  const headerField = encodeHeaderField(header);
  const eventFields = events.map(eventField);
  // The watch id (never negative here) is the only part written per response: one allocation.
  let size = headerField.length + 1 + varintSize(watchId);
  for (const field of eventFields) size += field.length;
  const out = new ProtobufWriter(Buffer.allocUnsafe(size));
  out.raw(headerField);
  out.tag(2, VARINT); // watch_id, written even when 0: a decoder reads 0 either way
  out.varint(watchId);
  for (const field of eventFields) out.raw(field);
  return out.finish();
}

function eventField(event: Event): Buffer {
  let bytes = encodedEvents.get(event);
  if (bytes === undefined) {
    const kv = keyValueFields(event.kv);
    const prevKv = event.prevKv === undefined ? undefined : keyValueFields(event.prevKv);
    const eventSize = (event.type === 'DELETE' ? 2 : 0) + lengthDelimitedSize(kv.size) + (prevKv === undefined ? 0 : lengthDelimitedSize(prevKv.size));
    const out = new ProtobufWriter(Buffer.allocUnsafe(lengthDelimitedSize(eventSize)));
    out.lengthDelimited(11, eventSize);
    if (event.type === 'DELETE') out.varintField(1, 1); // mvccpb.Event.EventType: PUT = 0, DELETE = 1
    writeKeyValue(out, 2, kv);
    if (prevKv !== undefined) writeKeyValue(out, 3, prevKv);
    bytes = out.finish();
    encodedEvents.set(event, bytes);
  }
  return bytes;
}

/** A KeyValue with its lease (an int64 as a decimal string) parsed once, and its encoded size. */
interface KeyValueFields {
  readonly kv: KeyValue;
  readonly lease: bigint;
  readonly size: number;
}

function keyValueFields(kv: KeyValue): KeyValueFields {
  const lease = BigInt(kv.lease);
  const size =
    (kv.key.byteLength === 0 ? 0 : lengthDelimitedSize(kv.key.byteLength)) +
    varintFieldSize(kv.createRevision) +
    varintFieldSize(kv.modRevision) +
    varintFieldSize(kv.version) +
    (kv.value.byteLength === 0 ? 0 : lengthDelimitedSize(kv.value.byteLength)) +
    bigVarintFieldSize(lease);
  return { kv, lease, size };
}

function writeKeyValue(out: ProtobufWriter, field: number, { kv, lease, size }: KeyValueFields): void {
  out.lengthDelimited(field, size);
  if (kv.key.byteLength > 0) out.bytesField(1, kv.key);
  out.varintField(2, kv.createRevision);
  out.varintField(3, kv.modRevision);
  out.varintField(4, kv.version);
  if (kv.value.byteLength > 0) out.bytesField(5, kv.value);
  out.bigVarintField(6, lease);
}

/** The header field of the last response, reused while the header stays (every watcher of one put). */
let lastHeader: { readonly header: ResponseHeader; readonly field: Buffer } | undefined;

function encodeHeaderField(header: ResponseHeader): Buffer {
  const last = lastHeader?.header;
  const same =
    last !== undefined && last.revision === header.revision && last.raft_term === header.raft_term && last.member_id === header.member_id && last.cluster_id === header.cluster_id;
  if (!same || lastHeader === undefined) {
    // uint64s as decimal strings: the ids use all 64 bits.
    const values = [header.cluster_id, header.member_id, header.revision, header.raft_term].map((value) => BigInt(value));
    let size = 0;
    for (const value of values) size += bigVarintFieldSize(value);
    const out = new ProtobufWriter(Buffer.allocUnsafe(lengthDelimitedSize(size)));
    out.lengthDelimited(1, size);
    values.forEach((value, i) => out.bigVarintField(i + 1, value));
    lastHeader = { header: { ...header }, field: out.finish() };
  }
  return lastHeader.field;
}
