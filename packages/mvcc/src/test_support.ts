/** Helpers for this package's tests (not built into dist). */
import { seededRandom as mulberry32 } from '@k8ts/base';
import { expect } from 'vitest';
import { EtcdError, type EtcdErrorSpec } from './errors.js';
import type { StoreCommand } from './command.js';
import type { Event, KeyValue, PutRequest, RangeResponse, RequestOp } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const enc = (s: string): Uint8Array => encoder.encode(s);
export const dec = (b: Uint8Array): string => decoder.decode(b);
/** rangeEnd [0]: every key >= key. */
export const FROM_KEY = new Uint8Array([0]);

/** etcd's prefix end ("a" → "b", "a\xff" → "b"), as clientv3.GetPrefixRangeEnd. */
export function prefixEnd(prefix: string): Uint8Array {
  const end = enc(prefix).slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.slice(0, i + 1);
    }
  }
  return FROM_KEY;
}

export const keys = (r: RangeResponse): string[] => r.kvs.map((kv) => dec(kv.key));

/** "key=value@mod/v<version>" — one kv on one line, for readable expectations. */
export const show = (kv: KeyValue | undefined): string =>
  kv === undefined ? '-' : `${dec(kv.key)}=${dec(kv.value)}@${kv.modRevision}/v${kv.version}`;

/** "PUT a=1@2/v1 (prev -)" */
export const showEvent = (e: Event): string =>
  e.type === 'PUT'
    ? `PUT ${show(e.kv)} (prev ${show(e.prevKv)})`
    : `DELETE ${dec(e.kv.key)}@${e.kv.modRevision} (prev ${show(e.prevKv)})`;

type PutOptions = Omit<PutRequest, 'key' | 'value'>;
export const put = (key: string, value: string, options: PutOptions = {}): RequestOp => ({
  requestPut: { key: enc(key), value: enc(value), ...options },
});
/** A nested txn op without compares: success runs. */
export const nested = (success: RequestOp[], failure: RequestOp[] = []): RequestOp => ({
  requestTxn: { success, failure },
});
export const get = (key: string, rangeEnd?: string): RequestOp => ({
  requestRange: rangeEnd === undefined ? { key: enc(key) } : { key: enc(key), rangeEnd: enc(rangeEnd) },
});
export const del = (key: string, rangeEnd?: Uint8Array): RequestOp => ({
  requestDeleteRange: rangeEnd === undefined ? { key: enc(key) } : { key: enc(key), rangeEnd },
});

/** Asserts that `action` throws etcd's error `spec` (same code, same message). */
export function expectEtcdError(action: () => unknown, spec: EtcdErrorSpec): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected "${spec.message}"`).toBeInstanceOf(EtcdError);
  const error = thrown as EtcdError;
  expect({ code: error.code, message: error.message }).toEqual({ code: spec.code, message: spec.message });
}

/** Integer and pick draws over @k8ts/base's seeded PRNG: one seed reproduces a whole random run. */
export interface SeededRandom {
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

export function seededRandom(seed: number): SeededRandom {
  const next = mulberry32(seed);
  return {
    int: (n) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}

/**
 * A random command over a small keyspace (so keys collide, get deleted and recreated), with leases,
 * txns and compactions mixed in; some are refused, which is part of what is being tested.
 */
export function randomCommand(random: SeededRandom, currentRevision: number): StoreCommand {
  const key = (): Uint8Array => enc(random.pick(['a', 'b', 'c', 'ab', 'abc', 'b\u0000', 'z']));
  const value = (): Uint8Array => enc(random.pick(['', 'x', 'y', 'long value'.repeat(random.int(4))]));
  const lease = (): string => random.pick(['0', '0', '0', '1', '2', '3']);
  const rangeEnd = (): Uint8Array | undefined => random.pick([undefined, FROM_KEY, enc('b'), enc('c')]);
  const op = (depth: number): RequestOp => {
    switch (random.int(depth > 0 ? 4 : 3)) {
      case 0:
        return { requestRange: { key: key(), rangeEnd: rangeEnd(), limit: random.int(3) } };
      case 1:
        return { requestPut: { key: key(), value: value(), lease: lease(), prevKv: random.int(2) === 0 } };
      case 2:
        return { requestDeleteRange: { key: key(), rangeEnd: rangeEnd(), prevKv: true } };
      default:
        return { requestTxn: { compare: [], success: [op(depth - 1)], failure: [op(depth - 1)] } };
    }
  };
  const roll = random.int(100);
  if (roll < 35) {
    const ignoreValue = random.int(10) === 0;
    return { type: 'put', request: { key: key(), value: ignoreValue ? new Uint8Array(0) : value(), lease: lease(), ignoreValue } };
  }
  if (roll < 45) return { type: 'deleteRange', request: { key: key(), rangeEnd: rangeEnd(), prevKv: true } };
  if (roll < 70) {
    return {
      type: 'txn',
      request: {
        compare: [
          {
            key: key(),
            rangeEnd: rangeEnd(),
            target: random.pick(['VERSION', 'MOD', 'VALUE'] as const),
            result: random.pick(['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'] as const),
            version: random.int(3),
            modRevision: random.int(currentRevision + 1),
            value: value(),
          },
        ],
        success: [op(1), op(1)],
        failure: [op(1)],
      },
    };
  }
  if (roll < 73) return { type: 'compaction', request: { revision: Math.max(1, currentRevision - random.int(40)) } };
  if (roll < 80) return { type: 'leaseGrant', id: String(1 + random.int(3)), ttl: 10 };
  if (roll < 85) return { type: 'leaseRevoke', id: String(1 + random.int(3)) };
  return {
    type: 'range',
    request: {
      key: key(),
      rangeEnd: rangeEnd(),
      revision: currentRevision - random.int(4),
      sortOrder: random.pick(['NONE', 'DESCEND'] as const),
      sortTarget: random.pick(['KEY', 'MOD'] as const),
    },
  };
}
