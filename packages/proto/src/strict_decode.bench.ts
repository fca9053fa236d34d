import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { bench, describe } from 'vitest';
import { PROTO_LOADER_OPTIONS, loadEtcdApi } from './load.js';
import { findProtoRoot } from './paths.js';

/**
 * What the strict check costs per request: `pnpm exec vitest bench packages/proto/src/strict_decode.bench.ts`.
 * "lenient" is proto-loader's deserializer alone (before), "strict" the check then the same (after).
 */
type Deserialize = (bytes: Buffer) => object;
const strict = loadEtcdApi().KV.service;
const lenient = protoLoader.loadSync('etcdserverpb/rpc.proto', { ...PROTO_LOADER_OPTIONS, includeDirs: [join(findProtoRoot(), 'etcd')] })['etcdserverpb.KV'] as Record<string, { requestDeserialize: Deserialize }>;
const method = (name: string): { serialize: (message: object) => Buffer; strict: Deserialize; lenient: Deserialize } => {
  const definition = strict[name];
  const before = lenient[name];
  if (definition === undefined || before === undefined) throw new Error(`KV.${name} missing`);
  return { serialize: definition.requestSerialize as (message: object) => Buffer, strict: definition.requestDeserialize as Deserialize, lenient: before.requestDeserialize };
};

const key = Buffer.from('/registry/pods/default/nginx-7c5ddbdf54-2xkqz');
const cases = {
  // A typical apiserver write: a pod of about 1 KiB.
  Put: { key, value: Buffer.alloc(1024, 7), lease: '7587869021434343' },
  Range: { key: Buffer.from('/registry/pods/'), range_end: Buffer.from('/registry/pods0'), limit: 500, revision: 123456 },
  // The apiserver's guaranteed update: compare the mod revision, put or read back.
  Txn: { compare: [{ target: 'MOD', key, mod_revision: 1234 }], success: [{ request_put: { key, value: Buffer.alloc(1024, 7) } }], failure: [{ request_range: { key } }] },
};

for (const [name, message] of Object.entries(cases)) {
  const { serialize, strict: after, lenient: before } = method(name);
  const bytes = serialize(message);
  describe(`${name} request (${bytes.length} bytes)`, () => {
    bench('lenient (proto-loader only)', () => void before(bytes));
    bench('strict (check, then proto-loader)', () => void after(bytes));
  });
}
