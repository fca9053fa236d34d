import { checkMessage, loadEtcdApi, messageRules, type EtcdApi, type MessageRule } from '@k8ts/proto';

/**
 * Requests for the etcd v3 API as a store member serves it: well-formed but hostile messages (edge
 * limits and revisions, empty and oversized keys, range ends such as "\0", compare targets and enum
 * values out of range, big and nested transactions, duplicate keys in a transaction, leases and
 * members that do not exist, watches with bad filters, progress and cancel requests) and malformed
 * bytes (random, truncated, bit-flipped, wrong wire types, lengths past the end).
 */
export interface EtcdCase {
  readonly service: string;
  readonly method: string;
  /** The gRPC path, '/etcdserverpb.KV/Range'. */
  readonly path: string;
  readonly streaming: boolean;
  /** The messages sent (one for a unary call). */
  readonly payloads: readonly Buffer[];
  /** How the payload was made: 'hostile' (a valid encoding) or the malformation applied. */
  readonly shape: string;
  /** A short view of the message for the failure report. */
  readonly summary: string;
  /**
   * Why etcd cannot unmarshal the first payload it cannot (gogo/protobuf's error text), when one is
   * malformed: a corruption may leave a valid message (a flipped bit in a value), so each payload
   * is classified by gogo's rules (@k8ts/proto's checkMessage; STORE_UNDER_TEST=etcd checks them).
   */
  readonly refusal?: string;
}

type Random = () => number;
type Message = Record<string, unknown>;

interface MethodSpec {
  readonly service: keyof Omit<EtcdApi, 'packageDefinition'>;
  readonly method: string;
  readonly streaming: boolean;
  /** Whether a success may change the keyspace. */
  readonly writes: boolean;
  readonly hostile: (random: Random) => Message;
}

/**
 * Left out on purpose: MemberAdd (a second voter would cost a one-member cluster its quorum),
 * Alarm ACTIVATE (NOSPACE makes the store refuse writes by design), Defragment and Snapshot
 * (heavy, and no input to speak of), and the Auth service (not served).
 */
const METHODS: readonly MethodSpec[] = [
  { service: 'KV', method: 'Range', streaming: false, writes: false, hostile: (r) => rangeRequest(r) },
  { service: 'KV', method: 'Put', streaming: false, writes: true, hostile: (r) => putRequest(r) },
  { service: 'KV', method: 'DeleteRange', streaming: false, writes: true, hostile: (r) => ({ key: key(r), range_end: rangeEnd(r), prev_kv: r() < 0.5 }) },
  { service: 'KV', method: 'Txn', streaming: false, writes: true, hostile: (r) => txnRequest(r, 0) },
  { service: 'KV', method: 'Compact', streaming: false, writes: true, hostile: (r) => ({ revision: int64(r), physical: r() < 0.3 }) },
  { service: 'Watch', method: 'Watch', streaming: true, writes: false, hostile: (r) => watchRequest(r) },
  { service: 'Lease', method: 'LeaseGrant', streaming: false, writes: false, hostile: (r) => ({ TTL: int64(r), ID: int64(r) }) },
  { service: 'Lease', method: 'LeaseRevoke', streaming: false, writes: true, hostile: (r) => ({ ID: int64(r) }) },
  { service: 'Lease', method: 'LeaseTimeToLive', streaming: false, writes: false, hostile: (r) => ({ ID: int64(r), keys: r() < 0.5 }) },
  { service: 'Lease', method: 'LeaseLeases', streaming: false, writes: false, hostile: () => ({}) },
  { service: 'Lease', method: 'LeaseKeepAlive', streaming: true, writes: false, hostile: (r) => ({ ID: int64(r) }) },
  { service: 'Cluster', method: 'MemberList', streaming: false, writes: false, hostile: (r) => ({ linearizable: r() < 0.5 }) },
  { service: 'Cluster', method: 'MemberRemove', streaming: false, writes: false, hostile: (r) => ({ ID: int64(r) }) },
  { service: 'Cluster', method: 'MemberUpdate', streaming: false, writes: false, hostile: (r) => ({ ID: int64(r), peerURLs: urls(r) }) },
  { service: 'Cluster', method: 'MemberPromote', streaming: false, writes: false, hostile: (r) => ({ ID: int64(r) }) },
  { service: 'Maintenance', method: 'Status', streaming: false, writes: false, hostile: () => ({}) },
  { service: 'Maintenance', method: 'Alarm', streaming: false, writes: false, hostile: (r) => ({ action: 'GET', memberID: int64(r), alarm: pick(r, ['NONE', 'NOSPACE', 'CORRUPT']) }) },
  { service: 'Maintenance', method: 'Hash', streaming: false, writes: false, hostile: () => ({}) },
  { service: 'Maintenance', method: 'HashKV', streaming: false, writes: false, hostile: (r) => ({ revision: int64(r) }) },
  { service: 'Maintenance', method: 'MoveLeader', streaming: false, writes: false, hostile: (r) => ({ targetID: int64(r) }) },
];

/** The keys the fuzzer's writes and reads aim at, so that hostile requests meet existing data. */
export const FUZZ_PREFIX = 'fuzz/';

type Serialize = (message: Message) => Buffer;

/** Draws cases; one instance per process (it loads the .proto files). */
export class EtcdCaseGenerator {
  private readonly serializers = new Map<string, Serialize>();
  private readonly rules: Map<string, MessageRule>;

  constructor(private readonly api: EtcdApi = loadEtcdApi()) {
    this.rules = messageRules(api.packageDefinition);
  }

  /**
   * Whether a success of this case may change the keyspace. (A malformed case of a writing method
   * must be refused, so the runner checks it wrote nothing; one of a reading method has no way to
   * write, and checking it too would only widen the window in which a lease expiring in the
   * background changes the keyspace: seed 83 of 1-200 did.)
   */
  writes(fuzzCase: EtcdCase): boolean {
    return METHODS.some((spec) => spec.method === fuzzCase.method && spec.writes);
  }

  generate(random: Random): EtcdCase {
    const spec = pick(random, METHODS);
    const serialize = this.serializer(spec);
    const messages = spec.streaming ? Array.from({ length: 1 + Math.floor(random() * 4) }, () => spec.hostile(random)) : [spec.hostile(random)];
    const encoded = messages.map((message) => serialize(message));
    const malform = random() < 0.4 ? pick(random, MALFORMATIONS) : undefined;
    const payloads = malform === undefined ? encoded : encoded.map((bytes) => malform.apply(random, bytes));
    const rule = this.requestRule(spec);
    const refusal = malform === undefined ? undefined : payloads.map((bytes) => checkMessage(rule, bytes)).find((text) => text !== undefined);
    return {
      service: spec.service,
      method: spec.method,
      path: `/etcdserverpb.${spec.service}/${spec.method}`,
      streaming: spec.streaming,
      payloads,
      shape: malform?.name ?? 'hostile',
      summary: summarize(malform === undefined ? messages : payloads.map((bytes) => bytes.toString('hex'))),
      ...(refusal === undefined ? {} : { refusal }),
    };
  }

  /** A case for one given message (a regression test's exact request), encoded as it stands. */
  exact(service: MethodSpec['service'], method: string, message: Message): EtcdCase {
    const spec = METHODS.find((candidate) => candidate.service === service && candidate.method === method);
    if (spec === undefined) throw new Error(`no fuzzed method ${service}.${method}`);
    const payload = this.serializer(spec)(message);
    return { service, method, path: `/etcdserverpb.${service}/${method}`, streaming: spec.streaming, payloads: [payload], shape: 'exact', summary: summarize([message]) };
  }

  private requestRule(spec: MethodSpec): MessageRule {
    // proto-loader's method definitions also carry the request type's descriptor.
    const definition = this.api[spec.service].service[spec.method] as { requestType?: { type?: { name?: string } } } | undefined;
    const name = definition?.requestType?.type?.name;
    const rule = name === undefined ? undefined : this.rules.get(`etcdserverpb.${name}`);
    if (rule === undefined) throw new Error(`etcd API has no request type for ${spec.service}.${spec.method}`);
    return rule;
  }

  private serializer(spec: MethodSpec): Serialize {
    const name = `${spec.service}.${spec.method}`;
    let serialize = this.serializers.get(name);
    if (serialize === undefined) {
      const definition = this.api[spec.service].service[spec.method];
      if (definition === undefined) throw new Error(`etcd API has no method ${name}`);
      serialize = definition.requestSerialize as Serialize;
      this.serializers.set(name, serialize);
    }
    return serialize;
  }
}

// ---- malformed bytes ----

interface Malformation {
  readonly name: string;
  apply(random: Random, valid: Buffer): Buffer;
}

const MALFORMATIONS: readonly Malformation[] = [
  { name: 'random bytes', apply: (r) => randomBytes(r, r() < 0.1 ? 4096 : Math.floor(r() * 64)) },
  { name: 'truncated', apply: (r, valid) => valid.subarray(0, Math.floor(r() * valid.length)) },
  {
    name: 'bit flips',
    apply: (r, valid) => {
      const bytes = Buffer.from(valid.length === 0 ? randomBytes(r, 4) : valid);
      for (let flips = 1 + Math.floor(r() * 3); flips > 0; flips--) {
        const at = Math.floor(r() * bytes.length);
        bytes[at] = (bytes[at] ?? 0) ^ (1 << Math.floor(r() * 8));
      }
      return bytes;
    },
  },
  // Field 1 as a varint, a fixed64, a group start/end, or a fixed32, whatever its declared type.
  { name: 'wrong wire type', apply: (r, valid) => Buffer.concat([Buffer.from([pick(r, [0x08, 0x09, 0x0b, 0x0c, 0x0d]), 0x96, 0x01, 0, 0, 0, 0, 0, 0]), valid]) },
  // A length-delimited field 1 claiming far more bytes than follow.
  { name: 'length past the end', apply: (r, valid) => Buffer.concat([valid, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), randomBytes(r, 3)]) },
  // A varint of eleven bytes (protobuf allows ten), and a field number 0.
  { name: 'overlong varint', apply: () => Buffer.from([0x10, ...Array<number>(10).fill(0xff), 0x01]) },
  { name: 'field number 0', apply: (r, valid) => Buffer.concat([Buffer.from([0x00, Math.floor(r() * 128)]), valid]) },
];

// ---- well-formed but hostile messages ----

function rangeRequest(r: Random): Message {
  return {
    key: key(r),
    range_end: rangeEnd(r),
    limit: int64(r),
    revision: int64(r),
    sort_order: enumValue(r, ['NONE', 'ASCEND', 'DESCEND']),
    sort_target: enumValue(r, ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE']),
    serializable: r() < 0.5,
    keys_only: r() < 0.3,
    count_only: r() < 0.3,
    min_mod_revision: int64(r),
    max_mod_revision: int64(r),
    min_create_revision: int64(r),
    max_create_revision: int64(r),
  };
}

function putRequest(r: Random): Message {
  return { key: key(r), value: value(r), lease: r() < 0.3 ? int64(r) : '0', prev_kv: r() < 0.5, ignore_value: r() < 0.2, ignore_lease: r() < 0.2 };
}

function txnRequest(r: Random, depth: number): Message {
  // Many operations only at the top: nested transactions stay small, so a case stays small.
  const many = depth === 0 && r() < 0.1;
  const ops = (): Message[] => Array.from({ length: many ? 100 + Math.floor(r() * 200) : Math.floor(r() * 4) }, () => requestOp(r, depth));
  const compare = Array.from({ length: Math.floor(r() * 3) }, () => compareOf(r));
  const txn = { compare, success: ops(), failure: ops() };
  // A transaction putting one key twice, which etcd refuses ("duplicate key given in txn request").
  if (r() < 0.2) {
    const twice = { request_put: { key: Buffer.from(`${FUZZ_PREFIX}dup`), value: Buffer.from('1') } };
    txn.success.push(twice, twice);
  }
  return txn;
}

function requestOp(r: Random, depth: number): Message {
  const kind = Math.floor(r() * (depth < 3 ? 4 : 3));
  if (kind === 0) return { request_range: rangeRequest(r) };
  if (kind === 1) return { request_put: putRequest(r) };
  if (kind === 2) return { request_delete_range: { key: key(r), range_end: rangeEnd(r), prev_kv: r() < 0.5 } };
  return { request_txn: txnRequest(r, depth + 1) };
}

function compareOf(r: Random): Message {
  const target = enumValue(r, ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE']);
  const union =
    r() < 0.2 ? {}
    : target === 'VALUE' ? { value: value(r) }
    : target === 'VERSION' ? { version: int64(r) }
    : target === 'CREATE' ? { create_revision: int64(r) }
    : target === 'MOD' ? { mod_revision: int64(r) }
    : target === 'LEASE' ? { lease: int64(r) }
    : { [pick(r, ['version', 'create_revision', 'mod_revision', 'lease'])]: int64(r) };
  return { result: enumValue(r, ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL']), target, key: key(r), range_end: rangeEnd(r), ...union };
}

function watchRequest(r: Random): Message {
  const kind = r();
  if (kind < 0.6) {
    return {
      create_request: {
        key: key(r),
        range_end: rangeEnd(r),
        start_revision: int64(r),
        progress_notify: r() < 0.3,
        filters: Array.from({ length: Math.floor(r() * 3) }, () => enumValue(r, ['NOPUT', 'NODELETE'])),
        prev_kv: r() < 0.3,
        watch_id: int64(r),
        fragment: r() < 0.3,
      },
    };
  }
  if (kind < 0.85) return { cancel_request: { watch_id: int64(r) } };
  return { progress_request: {} };
}

/** Limits, revisions, ids and TTLs at the edges of int64 and around the store's current values. */
function int64(r: Random): string {
  return pick(r, ['0', '1', '-1', '2', '3', '10', '100', '1000000', '-9223372036854775808', '9223372036854775807', '4294967296', String(Math.floor(r() * 50))]);
}

/** Empty, "\0", the fuzz prefix and keys under it, binary keys, and keys past the request limit. */
function key(r: Random): Buffer {
  const kind = r();
  if (kind < 0.1) return Buffer.alloc(0);
  if (kind < 0.2) return Buffer.from([0]);
  if (kind < 0.7) return Buffer.from(`${FUZZ_PREFIX}${Math.floor(r() * 8)}`);
  if (kind < 0.9) return randomBytes(r, 1 + Math.floor(r() * 16));
  if (kind < 0.97) return Buffer.alloc(8192, 'k');
  return Buffer.alloc(2 * 1024 * 1024, 'k');
}

/** No end (one key), "\0" (every key from `key` on), the prefix's end, one less than the key, random. */
function rangeEnd(r: Random): Buffer {
  return pick(r, [Buffer.alloc(0), Buffer.alloc(0), Buffer.from([0]), Buffer.from('fuzz0'), Buffer.from(FUZZ_PREFIX), Buffer.from([0xff]), randomBytes(r, 3)]);
}

function value(r: Random): Buffer {
  return r() < 0.05 ? Buffer.alloc(2 * 1024 * 1024, 'v') : randomBytes(r, Math.floor(r() * 32));
}

function urls(r: Random): string[] {
  return Array.from({ length: Math.floor(r() * 3) }, () => pick(r, ['', 'not a url', 'http://', 'http://127.0.0.1:-1', 'unix:///x', '\u0000', 'http://[::1']));
}

/** A named enum value, or a number outside the enum. */
function enumValue(r: Random, names: readonly string[]): string | number {
  return r() < 0.15 ? pick(r, [-1, names.length, 99]) : pick(r, names);
}

function randomBytes(r: Random, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(r() * 256);
  return bytes;
}

function pick<T>(r: Random, choices: readonly T[]): T {
  const choice = choices[Math.floor(r() * choices.length)];
  if (choice === undefined) throw new Error('pick from an empty list');
  return choice;
}

function summarize(messages: readonly unknown[]): string {
  const text = JSON.stringify(messages, (_key, item: unknown) => {
    if (item !== null && typeof item === 'object' && (item as { type?: unknown }).type === 'Buffer') {
      const data = (item as { data: number[] }).data;
      return data.length > 24 ? `<${data.length} bytes>` : Buffer.from(data).toString('latin1');
    }
    return item;
  });
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
