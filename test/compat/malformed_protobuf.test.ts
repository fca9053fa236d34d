import { RawGrpcClient, type RawOutcome } from '@k8ts/fuzz';
import { TestCluster, waitForLeader, type StoreKind } from '@k8ts/testkit';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually, storeClient } from '../store_harness.js';

/**
 * Raw request bytes sent to etcd 3.4 and to k8ts-store alike: both must give the same status (and,
 * for bytes etcd cannot unmarshal, the same "grpc: error unmarshalling request: …" text), and a
 * refused write must change nothing. Then three answers where k8ts-store used to differ from etcd.
 * (Not sent: a known bytes field whose length overflows int64 — etcd 3.4.23 panics on it and exits.)
 */
const KINDS: StoreKind[] = ['etcd', 'k8ts'];
const INTERNAL = 13;
const DEADLINE_MS = 5000;

const hex = (text: string): Buffer => Buffer.from(text.replace(/ /g, ''), 'hex');
const utf8 = (text: string): string => Buffer.from(text).toString('hex');
/** A length-delimited field: tag byte (hex) + length + contents (hex). */
const field = (tag: string, contents: string): string => `${tag}${(contents.replace(/ /g, '').length / 2).toString(16).padStart(2, '0')}${contents}`;
const key = (name: string): string => field('0a', utf8(name));

interface Case {
  readonly what: string;
  readonly path: string;
  readonly bytes: string;
}

const PUT = '/etcdserverpb.KV/Put';
/** Malformed requests: etcd refuses each with INTERNAL; the writes among them must write nothing. */
const REFUSED: Case[] = [
  { what: 'Put with field number 0', path: PUT, bytes: `${key('malformed/zero')} 0001` },
  { what: 'Put with field number -1 (a 10-byte tag)', path: PUT, bytes: `${key('malformed/neg')} f8ffffffffffffffff01 00` },
  { what: 'Put with a length-delimited Lease (wrong wire type)', path: PUT, bytes: `${key('malformed/wt')} 1a0161` },
  { what: 'Put with a fixed32 Lease (wrong wire type)', path: PUT, bytes: `${key('malformed/wt5')} 1d00000000` },
  { what: 'Put with an 11-byte varint', path: PUT, bytes: `${key('malformed/long')} 18ffffffffffffffffffff01` },
  { what: 'Put with a truncated varint', path: PUT, bytes: `${key('malformed/trunc')} 1880` },
  { what: 'Put whose value length runs past the end', path: PUT, bytes: `${key('malformed/len')} 1205 61` },
  { what: 'Put with an end-group tag', path: PUT, bytes: `${key('malformed/eg')} 0c` },
  { what: 'Put with an unknown field of wire type 6', path: PUT, bytes: `${key('malformed/wt6')} fe01` },
  { what: 'Put with an unknown field of wire type 7', path: PUT, bytes: `${key('malformed/wt7')} ff01` },
  { what: 'Put with an unclosed unknown group', path: PUT, bytes: `${key('malformed/group')} fb01 f80101` },
  { what: 'Put with an unknown field of negative length', path: PUT, bytes: `${key('malformed/neglen')} fa01ffffffffffffffffff01` },
  { what: 'Txn whose success op is a Put with field number 0', path: '/etcdserverpb.KV/Txn', bytes: field('12', field('12', `${key('malformed/txn')} 0001`)) },
  { what: 'Txn whose compare has a varint key', path: '/etcdserverpb.KV/Txn', bytes: `${field('0a', '1801')} ${field('12', field('12', key('malformed/cmp')))}` },
  { what: 'DeleteRange with field number 0', path: '/etcdserverpb.KV/DeleteRange', bytes: `${key('malformed/')} 0001` },
  { what: 'Range with a length-delimited sort_target', path: '/etcdserverpb.KV/Range', bytes: `${key('a')} 3203` },
  { what: 'LeaseGrant with field number 0', path: '/etcdserverpb.Lease/LeaseGrant', bytes: '083c 0001' },
  { what: 'MemberList with field number 0', path: '/etcdserverpb.Cluster/MemberList', bytes: '0001' },
  { what: 'Status with a truncated length', path: '/etcdserverpb.Maintenance/Status', bytes: 'fa0105' },
  { what: 'HashKV with a length-delimited revision', path: '/etcdserverpb.Maintenance/HashKV', bytes: '0a0101' },
];

/** Unknown fields of every wire type: etcd skips them and applies the Put. */
const TAKEN: Case[] = [
  { what: 'Put with an unknown varint field', path: PUT, bytes: `${key('unknown/varint')} f80101` },
  { what: 'Put with an unknown fixed64 field', path: PUT, bytes: `${key('unknown/fixed64')} f9010102030405060708` },
  { what: 'Put with an unknown length-delimited field', path: PUT, bytes: `${key('unknown/bytes')} fa0103616263` },
  { what: 'Put with an unknown group holding fields', path: PUT, bytes: `${key('unknown/group')} fb01 f80101 fb01 fc01 fc01` },
  { what: 'Put with an unknown fixed32 field', path: PUT, bytes: `${key('unknown/fixed32')} fd0101020304` },
];

interface Store {
  cluster: TestCluster;
  raw: RawGrpcClient;
  client: Etcd3;
}
const stores = new Map<StoreKind, Store>();
const store = (kind: StoreKind): Store => {
  const found = stores.get(kind);
  if (found === undefined) throw new Error(`${kind} not started`);
  return found;
};
const revision = async (kind: StoreKind): Promise<string> => (await store(kind).client.get('any').exec()).header.revision;
const sendBoth = async (c: Case): Promise<Record<StoreKind, RawOutcome>> => {
  const [etcd, k8ts] = await Promise.all(KINDS.map((kind) => store(kind).raw.unary(c.path, hex(c.bytes), DEADLINE_MS)));
  if (etcd === undefined || k8ts === undefined) throw new Error('no outcome');
  return { etcd, k8ts };
};

beforeAll(async () => {
  await Promise.all(
    KINDS.map(async (kind) => {
      const cluster = await TestCluster.start(kind, { size: 1 });
      await waitForLeader(cluster.endpoints);
      const member = cluster.members[0];
      if (member === undefined) throw new Error('no member');
      stores.set(kind, { cluster, raw: new RawGrpcClient(member.endpoint), client: storeClient(member, DEADLINE_MS) });
    }),
  );
}, 60_000);
afterAll(async () => {
  for (const { cluster, raw, client } of stores.values()) {
    raw.close();
    client.close();
    await cluster.stop();
  }
});

describe('malformed protobuf: etcd 3.4 and k8ts-store answer alike', () => {
  const before = new Map<StoreKind, string>();
  test('(revisions before the refused requests)', async () => {
    for (const kind of KINDS) before.set(kind, await revision(kind));
  });

  test.each(REFUSED)('$what: INTERNAL, same text', async (c) => {
    const { etcd, k8ts } = await sendBoth(c);
    expect(etcd.code, etcd.details).toBe(INTERNAL);
    expect(etcd.details).toMatch(/^grpc: error unmarshalling request: /);
    expect(k8ts).toEqual(etcd);
  });

  // grpc-go's streams word it differently from its unary calls (RecvMsg vs processUnaryRPC).
  test('a malformed message on a Watch stream ends it with INTERNAL, same text', async () => {
    const payload = hex(field('0a', '0001')); // create_request with field number 0
    const [etcd, k8ts] = await Promise.all(KINDS.map((kind) => store(kind).raw.bidi('/etcdserverpb.Watch/Watch', [payload], DEADLINE_MS)));
    expect(etcd?.code, etcd?.details).toBe(INTERNAL);
    expect(etcd?.details).toBe('grpc: failed to unmarshal the received message proto: WatchCreateRequest: illegal tag 0 (wire type 0)');
    expect(k8ts).toEqual(etcd);
  });

  test('a malformed Snapshot request is refused with INTERNAL, same text', async () => {
    const [etcd, k8ts] = await Promise.all(KINDS.map((kind) => store(kind).raw.bidi('/etcdserverpb.Maintenance/Snapshot', [hex('0001')], DEADLINE_MS)));
    expect(etcd?.code, etcd?.details).toBe(INTERNAL);
    expect(k8ts).toEqual(etcd);
  });

  test('the refused writes wrote nothing on either', async () => {
    for (const kind of KINDS) {
      expect(await revision(kind), kind).toBe(before.get(kind));
      expect(await store(kind).client.getAll().prefix('malformed/').count(), kind).toBe(0);
    }
  });

  test.each(TAKEN)('$what: skipped, the Put applies on both', async (c) => {
    const { etcd, k8ts } = await sendBoth(c);
    expect(etcd.code, etcd.details).toBe(0);
    expect(k8ts).toEqual(etcd);
    const name = Buffer.from(hex(c.bytes).subarray(2, 2 + (hex(c.bytes)[1] ?? 0))).toString();
    for (const kind of KINDS) expect(await store(kind).client.get(name).exists(), kind).toBe(true);
  });
});

describe('answers that used to differ from etcd 3.4', () => {
  test('HashKV of a future revision: OUT_OF_RANGE "etcdserver: mvcc: required revision is a future revision"', async () => {
    const { etcd, k8ts } = await sendBoth({ what: 'HashKV', path: '/etcdserverpb.Maintenance/HashKV', bytes: '08c0843d' }); // revision 1000000
    expect(etcd).toMatchObject({ code: 11, details: 'etcdserver: mvcc: required revision is a future revision' });
    expect(k8ts).toEqual(etcd);
  });

  test('HashKV at or below the compacted revision: OUT_OF_RANGE "etcdserver: mvcc: required revision has been compacted"', async () => {
    // Both stores have applied the same writes above (revision 6 and up): compact both at 3.
    const compacted = await sendBoth({ what: 'Compact', path: '/etcdserverpb.KV/Compact', bytes: '0803' });
    expect(compacted.etcd.code, compacted.etcd.details).toBe(0);
    expect(compacted.k8ts).toEqual(compacted.etcd);
    const { etcd, k8ts } = await sendBoth({ what: 'HashKV', path: '/etcdserverpb.Maintenance/HashKV', bytes: '0803' });
    expect(etcd).toMatchObject({ code: 11, details: 'etcdserver: mvcc: required revision has been compacted' });
    expect(k8ts).toEqual(etcd);
  });

  test('MemberUpdate of an unknown member id: NOT_FOUND "etcdserver: member not found"', async () => {
    const bytes = `08b960 ${field('12', utf8('http://127.0.0.1:1'))}`; // ID 12345
    const { etcd, k8ts } = await sendBoth({ what: 'MemberUpdate', path: '/etcdserverpb.Cluster/MemberUpdate', bytes });
    expect(etcd).toMatchObject({ code: 5, details: 'etcdserver: member not found' });
    expect(k8ts).toEqual(etcd);
  });

  test.each(KINDS)('%s: a Watch stream the client half-closes stays open and keeps delivering events', async (kind) => {
    const { raw, client } = store(kind);
    const stream = raw.openBidi('/etcdserverpb.Watch/Watch', [hex(field('0a', key('halfclose')))], { halfClose: true });
    const responses = (count: number): void => {
      if (stream.responses.length < count) throw new Error(`${stream.responses.length} responses, status ${JSON.stringify(stream.status())}`);
    };
    try {
      await eventually('the created response', DEADLINE_MS, async () => responses(1));
      await client.put('halfclose').value('after').exec();
      await eventually('the event after the half-close', DEADLINE_MS, async () => responses(2));
      expect(stream.status()).toBeUndefined();
      expect(stream.responses[1]?.includes(Buffer.from('after'))).toBe(true);
    } finally {
      stream.cancel();
      await stream.ended;
    }
  });
});
