import { loadEtcdApi, loadRaftTransport } from '@k8ts/proto';
import { describe, expect, test } from 'vitest';
import { ProtobufWriter, VARINT, bigVarintFieldSize, bigVarintSize, lengthDelimitedSize, packedSize, varintFieldSize, varintSize } from './protobuf_writer.js';

// protobufjs (through proto-loader's serializers of the real .proto files) is the reference: the
// writer's bytes must equal what it writes for the same fields.
const watchResponse = loadEtcdApi().Watch.service['Watch']?.responseSerialize as (response: object) => Buffer;
const raftMessage = loadRaftTransport().RaftTransport.service['Send']?.requestSerialize as (message: object) => Buffer;

/** Writes into a buffer of `size` bytes; `finish` throws if the writing does not fill it exactly. */
function write(size: number, fields: (out: ProtobufWriter) => void): Buffer {
  const out = new ProtobufWriter(Buffer.alloc(size));
  fields(out);
  return out.finish();
}

const uint64Edges = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 63, 0xffff_ffff_ffff_f800];

describe('ProtobufWriter', () => {
  test.each(uint64Edges)('uint64 %d: the varint protobufjs writes, from a double and from a bigint', (value) => {
    const expected = raftMessage({ term: BigInt(value).toString() }); // RaftMessage.term = 5, uint64
    const size = 1 + varintSize(value);
    expect(write(size, (out) => (out.tag(5, VARINT), out.varint(value)))).toEqual(expected);
    expect(write(1 + bigVarintSize(BigInt(value)), (out) => (out.tag(5, VARINT), out.bigVarint(BigInt(value))))).toEqual(expected);
    expect(size).toBe(expected.length);
  });

  test.each(uint64Edges)('uint64 %d as a proto3 field: left out at zero, else as protobufjs writes it', (value) => {
    const expected = value === 0 ? Buffer.alloc(0) : raftMessage({ term: BigInt(value).toString() });
    expect(write(varintFieldSize(value), (out) => out.varintField(5, value))).toEqual(expected);
    expect(write(bigVarintFieldSize(BigInt(value)), (out) => out.bigVarintField(5, BigInt(value)))).toEqual(expected);
  });

  test.each([-1n, -5n, -(2n ** 31n), -(2n ** 53n - 1n), -(2n ** 63n), 2n ** 63n - 1n])('int64 %s: ten bytes of two’s complement when negative, as protobufjs writes', (value) => {
    const expected = watchResponse({ watch_id: value.toString() }); // WatchResponse.watch_id = 2, int64
    expect(write(bigVarintFieldSize(value), (out) => out.bigVarintField(2, value))).toEqual(expected);
    if (value < 0n) expect(expected.length).toBe(11);
    const exactInDouble = value >= -(2n ** 53n) && value <= 2n ** 53n;
    if (exactInDouble) expect(write(varintFieldSize(Number(value)), (out) => out.varintField(2, Number(value)))).toEqual(expected);
  });

  test.each([0, 1, 127, 128, 16_384])('a length-delimited field of %d bytes', (length) => {
    const text = 'x'.repeat(length);
    const expected = watchResponse({ cancel_reason: text }); // WatchResponse.cancel_reason = 6, string
    expect(write(lengthDelimitedSize(length), (out) => out.bytesField(6, Buffer.from(text)))).toEqual(expected);
  });

  test('nested messages: a WatchResponse with a header, a put with prev_kv, and a delete', () => {
    const header = { cluster_id: 14841639068965178418n, member_id: 10276657743932975437n, revision: 1_234_567, raft_term: 3 };
    const kv = { key: Buffer.from('key'), create_revision: 70_000, mod_revision: 70_001, version: 2, value: Buffer.alloc(200, 7), lease: -5n };
    const prevKv = { key: Buffer.from('key'), create_revision: 70_000, mod_revision: 70_000, version: 1, value: Buffer.from('old'), lease: 7587882916148226570n };
    const deleted = { key: Buffer.from('gone'), mod_revision: 70_002 };
    const expected = watchResponse({
      header: { ...header, cluster_id: header.cluster_id.toString(), member_id: header.member_id.toString() },
      watch_id: 300,
      events: [
        { kv: { ...kv, lease: kv.lease.toString() }, prev_kv: { ...prevKv, lease: prevKv.lease.toString() } },
        { type: 'DELETE', kv: deleted },
      ],
    });

    type Kv = { key: Buffer; create_revision?: number; mod_revision: number; version?: number; value?: Buffer; lease?: bigint };
    const kvSize = (k: Kv): number =>
      lengthDelimitedSize(k.key.length) +
      varintFieldSize(k.create_revision ?? 0) +
      varintFieldSize(k.mod_revision) +
      varintFieldSize(k.version ?? 0) +
      (k.value === undefined ? 0 : lengthDelimitedSize(k.value.length)) +
      bigVarintFieldSize(k.lease ?? 0n);
    const writeKv = (out: ProtobufWriter, field: number, k: Kv): void => {
      out.lengthDelimited(field, kvSize(k));
      out.bytesField(1, k.key);
      out.varintField(2, k.create_revision ?? 0);
      out.varintField(3, k.mod_revision);
      out.varintField(4, k.version ?? 0);
      if (k.value !== undefined) out.bytesField(5, k.value);
      out.bigVarintField(6, k.lease ?? 0n);
    };
    const headerSize = bigVarintFieldSize(header.cluster_id) + bigVarintFieldSize(header.member_id) + varintFieldSize(header.revision) + varintFieldSize(header.raft_term);
    const putSize = lengthDelimitedSize(kvSize(kv)) + lengthDelimitedSize(kvSize(prevKv));
    const deleteSize = 2 + lengthDelimitedSize(kvSize(deleted));
    const size = lengthDelimitedSize(headerSize) + varintFieldSize(300) + lengthDelimitedSize(putSize) + lengthDelimitedSize(deleteSize);

    const written = write(size, (out) => {
      out.lengthDelimited(1, headerSize);
      out.bigVarintField(1, header.cluster_id);
      out.bigVarintField(2, header.member_id);
      out.varintField(3, header.revision);
      out.varintField(4, header.raft_term);
      out.varintField(2, 300);
      out.lengthDelimited(11, putSize);
      writeKv(out, 2, kv);
      writeKv(out, 3, prevKv);
      out.lengthDelimited(11, deleteSize);
      out.varintField(1, 1);
      writeKv(out, 2, deleted);
    });
    expect(written).toEqual(expected);
  });

  test('packed repeated uint64s inside nested messages (a snapshot’s membership), and raw bytes', () => {
    const voters = [1, 300, 2 ** 40, 0xffff_ffff_ffff_f800];
    const expected = raftMessage({ snapshot: { meta: { membership: { voters: voters.map((v) => BigInt(v).toString()) } }, data: Buffer.from([1, 2, 3]) } });
    const membershipSize = lengthDelimitedSize(packedSize(voters));
    const metaSize = lengthDelimitedSize(membershipSize);
    const snapshotSize = lengthDelimitedSize(metaSize) + lengthDelimitedSize(3);
    const written = write(lengthDelimitedSize(snapshotSize), (out) => {
      out.lengthDelimited(13, snapshotSize);
      out.lengthDelimited(1, metaSize);
      out.lengthDelimited(3, membershipSize);
      out.packedField(1, voters);
      out.packedField(2, []); // left out when empty
      out.lengthDelimited(2, 3);
      out.raw(Buffer.from([1, 2, 3]));
    });
    expect(written).toEqual(expected);
  });

  test('writes after a reserved prefix, and refuses to finish a buffer its sizes disagree with', () => {
    const out = new ProtobufWriter(Buffer.alloc(4 + varintFieldSize(300)), 4);
    out.varintField(5, 300);
    expect(out.finish().subarray(4)).toEqual(raftMessage({ term: '300' }));
    const tooLarge = new ProtobufWriter(Buffer.alloc(4));
    tooLarge.varintField(5, 300);
    expect(() => tooLarge.finish()).toThrow('protobuf writer filled 3 bytes of 4');
  });
});
