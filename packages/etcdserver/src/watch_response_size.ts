/**
 * The encoded size of an etcdserverpb.WatchResponse built by this package, without encoding it: the
 * watch stream counts the bytes it holds unsent. It follows how the gRPC serializer (protobuf.js
 * through proto-loader) writes these objects: a field present in the object is written even at its
 * default value; int64s arrive as numbers or decimal strings. Every field number here is below 16,
 * so every tag is one byte. watch_response_size.test.ts holds it to the real serializer.
 */
import { bigVarintSize, lengthDelimitedSize, varintSize } from './protobuf_writer.js';

type Wire = Record<string, unknown>;

export function watchResponseBytes(response: Wire): number {
  let size = messageField(response['header'], headerBytes);
  size += varintField(response['watch_id']);
  size += varintField(response['created']);
  size += varintField(response['canceled']);
  size += varintField(response['compact_revision']);
  size += bytesField(response['cancel_reason']);
  size += varintField(response['fragment']);
  const events = response['events'];
  if (Array.isArray(events)) for (const event of events) size += messageField(event, eventBytes);
  return size;
}

function headerBytes(header: Wire): number {
  return varintField(header['cluster_id']) + varintField(header['member_id']) + varintField(header['revision']) + varintField(header['raft_term']);
}

function eventBytes(event: Wire): number {
  const type = event['type'];
  const typeBytes = type === undefined || type === null ? 0 : 2; // PUT = 0, DELETE = 1: one byte each
  return typeBytes + messageField(event['kv'], keyValueBytes) + messageField(event['prev_kv'], keyValueBytes);
}

function keyValueBytes(kv: Wire): number {
  return (
    bytesField(kv['key']) +
    varintField(kv['create_revision']) +
    varintField(kv['mod_revision']) +
    varintField(kv['version']) +
    bytesField(kv['value']) +
    varintField(kv['lease'])
  );
}

function messageField(value: unknown, size: (message: Wire) => number): number {
  if (typeof value !== 'object' || value === null) return 0;
  return lengthDelimitedSize(size(value as Wire));
}

function bytesField(value: unknown): number {
  if (value instanceof Uint8Array) return lengthDelimitedSize(value.byteLength);
  if (typeof value === 'string') return lengthDelimitedSize(Buffer.byteLength(value));
  return 0;
}

function varintField(value: unknown): number {
  if (value === undefined || value === null) return 0;
  return 1 + varintBytes(value);
}

/** Bytes of a varint as the serializer takes it: a boolean, a number, a decimal string or a bigint. */
function varintBytes(value: unknown): number {
  if (typeof value === 'boolean') return 1;
  if (typeof value === 'string') return value.length < 16 ? varintSize(Number(value)) : bigVarintSize(BigInt(value));
  if (typeof value === 'bigint') return bigVarintSize(value);
  if (typeof value !== 'number') throw new Error(`watch response: ${typeof value} where an integer belongs`);
  return varintSize(value);
}
