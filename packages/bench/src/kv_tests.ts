import type { PutResponse, RangeResponse } from '@k8ts/proto';
import { runClosedLoop, type ClosedLoopResult } from './closed_loop.js';
import type { EtcdClientPool } from './etcd_client.js';
import type { KeyChooser } from './keys.js';
import type { StoreBenchOptions, TestName } from './options.js';
import { AnomalyLog, type TestResult } from './results.js';
import { ratePerSecond } from './stats.js';

/**
 * What the KV tests learn about the store as they go, to check later answers against: the highest
 * revision any put was acknowledged at, and which keys of the key space this run wrote.
 */
export class WrittenState {
  maxAcknowledgedRevision = 0n;
  readonly written: Uint8Array;

  constructor(keySpaceSize: number) {
    this.written = new Uint8Array(keySpaceSize);
  }
}

export interface KvTestContext {
  readonly pool: EtcdClientPool;
  readonly options: StoreBenchOptions;
  readonly keys: KeyChooser;
  readonly value: Buffer;
  readonly state: WrittenState;
}

export interface PutTestShape {
  readonly name: TestName;
  readonly clients: number;
  readonly conns: number;
  readonly total: number;
}

/** Puts from `clients` closed-loop clients; each client's revisions must strictly increase. */
export async function runPutTest(context: KvTestContext, shape: PutTestShape): Promise<TestResult> {
  const { pool, options, keys, value, state } = context;
  const anomalies = new AnomalyLog();
  const lastRevision = new Array<bigint>(shape.clients).fill(0n);
  const loop = await runClosedLoop({
    clients: shape.clients,
    total: shape.total,
    maxDurationMs: options.maxSecondsPerTest * 1000,
    maxErrors: options.maxErrors,
    operation: async (client, index) => {
      const { keyNumber, key } = keys.pick(index);
      const response: PutResponse = await pool.put(client, { key, value });
      const revision = BigInt(response.header?.revision ?? '0');
      if (revision <= (lastRevision[client] ?? 0n)) {
        anomalies.add(`put ${key.toString()} by client ${client} acknowledged at revision ${revision}, not above its previous put's ${lastRevision[client]}`);
      }
      lastRevision[client] = revision;
      if (revision > state.maxAcknowledgedRevision) state.maxAcknowledgedRevision = revision;
      state.written[keyNumber] = 1;
    },
  });
  return resultOf(loop, anomalies, {
    name: shape.name,
    description: `${shape.total} puts, ${plural(shape.clients, 'client')} over ${plural(shape.conns, 'conn')}, ${keyOrder(options)}`,
    unit: 'writes',
    clients: shape.clients,
    conns: shape.conns,
    requested: shape.total,
  });
}

/**
 * Single-key ranges of keys from the key space. Every answer must hold at most the key asked for;
 * a client's answers must not go back in revision; and a linearizable read must see every put
 * acknowledged before the test began (its revision, and the key with this run's value).
 */
export async function runRangeTest(context: KvTestContext, name: TestName, serializable: boolean): Promise<TestResult> {
  const { pool, options, keys, value, state } = context;
  const anomalies = new AnomalyLog();
  const floorRevision = state.maxAcknowledgedRevision;
  const lastRevision = new Array<bigint>(options.clients).fill(0n);
  let found = 0;
  const loop = await runClosedLoop({
    clients: options.clients,
    total: options.rangeTotal,
    maxDurationMs: options.maxSecondsPerTest * 1000,
    maxErrors: options.maxErrors,
    operation: async (client, index) => {
      const { keyNumber, key } = keys.pick(index);
      const response: RangeResponse = await pool.range(client, { key, serializable });
      const revision = BigInt(response.header?.revision ?? '0');
      const where = `range ${key.toString()} by client ${client} (${pool.connectionFor(client).endpoint})`;
      if (revision < (lastRevision[client] ?? 0n)) {
        anomalies.add(`${where} answered at revision ${revision}, below the client's previous answer at ${lastRevision[client]}`);
      }
      lastRevision[client] = revision;
      const kv = response.kvs[0];
      if (response.kvs.length > 1 || (kv !== undefined && !kv.key.equals(key))) {
        anomalies.add(`${where} returned ${response.kvs.length} keys: ${response.kvs.map((entry) => entry.key.toString()).join(', ')}`);
      }
      if (kv !== undefined) found += 1;
      if (serializable) return;
      if (revision < floorRevision) {
        anomalies.add(`${where}: linearizable read at revision ${revision}, below acknowledged put revision ${floorRevision}`);
      }
      if (state.written[keyNumber] === 1 && (kv === undefined || !kv.value.equals(value))) {
        anomalies.add(`${where}: linearizable read ${kv === undefined ? 'did not find' : 'found another value for'} a key this run wrote and saw acknowledged`);
      }
    },
  });
  return {
    ...resultOf(loop, anomalies, {
      name,
      description: `${options.rangeTotal} ${serializable ? 'serializable' : 'linearizable'} single-key ranges, ${plural(options.clients, 'client')} over ${plural(options.conns, 'conn')}, ${keyOrder(options)}`,
      unit: 'reads',
      clients: options.clients,
      conns: options.conns,
      requested: options.rangeTotal,
    }),
    readsFound: found,
  };
}

/** A test's result: what it was, and what its closed loop measured. */
function resultOf(
  loop: ClosedLoopResult,
  anomalies: AnomalyLog,
  test: Pick<TestResult, 'name' | 'description' | 'unit' | 'clients' | 'conns' | 'requested'>,
): TestResult {
  return {
    ...test,
    sent: loop.sent,
    completed: loop.completed,
    failed: loop.failed,
    errors: loop.errors,
    anomalies: anomalies.report(),
    elapsedMs: loop.elapsedMs,
    perSecond: ratePerSecond(loop.completed, loop.elapsedMs),
    latency: loop.latency,
    stoppedBy: loop.stoppedBy,
  };
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function keyOrder(options: StoreBenchOptions): string {
  return `${options.sequentialKeys ? 'sequential' : 'random'} keys in a space of ${options.keySpaceSize}`;
}
