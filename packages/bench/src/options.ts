import { checkKeySpace } from './keys.js';

/**
 * What a store benchmark run does. The defaults are sized so that `--vs-etcd` (the whole suite on
 * k8ts-store, then on etcd) finishes in a few minutes on a 2-core machine; every count is a flag.
 */

export const TEST_NAMES = ['put-sequential', 'put-concurrent', 'range-linearizable', 'range-serializable', 'watch', 'watch-knee'] as const;
export type TestName = (typeof TEST_NAMES)[number];
/** What runs without --tests: the watch knee takes minutes, so it runs only when named. */
export const DEFAULT_TESTS: readonly TestName[] = TEST_NAMES.filter((name) => name !== 'watch-knee');

export interface StoreBenchOptions {
  readonly tests: readonly TestName[];
  /** Puts sent before any test and not measured, with a quarter as many reads of each kind (connections warm, JIT warm). */
  readonly warmupPuts: number;
  /** Every selected test runs this many times (with --vs-etcd, on k8ts and on etcd in turn). */
  readonly rounds: number;
  /** put-sequential: one client on one connection. */
  readonly sequentialTotal: number;
  /** put-concurrent and both range tests. */
  readonly total: number;
  readonly rangeTotal: number;
  readonly clients: number;
  readonly conns: number;
  readonly keySizeBytes: number;
  readonly valueSizeBytes: number;
  readonly keySpaceSize: number;
  readonly sequentialKeys: boolean;
  /** watch: watchers on one prefix, spread over streams, spread over connections. */
  readonly watchers: number;
  readonly watchStreams: number;
  readonly watchPuts: number;
  /** Puts per second in the watch test (0 sends them back to back from one client); watch-knee's first rate. */
  readonly watchPutRate: number;
  /** watch-knee: each step puts for this long at its rate; rates double up to the maximum. */
  readonly watchKneeSeconds: number;
  readonly watchKneeMaxRate: number;
  /** Bounds each test: it stops at its count or after this long, whichever comes first. */
  readonly maxSecondsPerTest: number;
  readonly requestTimeoutMs: number;
  /** A test stops after this many failed requests (they are all reported). */
  readonly maxErrors: number;
  readonly seed: number;
  /** 'all' spreads connections over every endpoint; 'leader' puts them all on the leader. */
  readonly target: 'all' | 'leader';
}

export const DEFAULT_OPTIONS: StoreBenchOptions = {
  tests: DEFAULT_TESTS,
  warmupPuts: 10_000,
  rounds: 3,
  sequentialTotal: 1000,
  total: 10_000,
  rangeTotal: 10_000,
  clients: 100,
  conns: 10,
  keySizeBytes: 8,
  valueSizeBytes: 256,
  keySpaceSize: 10_000,
  sequentialKeys: false,
  watchers: 100,
  watchStreams: 10,
  watchPuts: 500,
  watchPutRate: 100,
  watchKneeSeconds: 5,
  watchKneeMaxRate: 12_800,
  maxSecondsPerTest: 60,
  requestTimeoutMs: 10_000,
  maxErrors: 100,
  seed: 1,
  target: 'all',
};

/** Watchers × puts the watch test tracks (one byte and one latency sample each). */
export const MAX_WATCH_EVENTS = 20_000_000;

/** Throws with the flag's name when an option is out of range. */
export function checkOptions(options: StoreBenchOptions): void {
  const counts: [string, number, number][] = [
    ['--warmup', options.warmupPuts, 0],
    ['--rounds', options.rounds, 1],
    ['--sequential-total', options.sequentialTotal, 0],
    ['--total', options.total, 0],
    ['--range-total', options.rangeTotal, 0],
    ['--clients', options.clients, 1],
    ['--conns', options.conns, 1],
    ['--key-size', options.keySizeBytes, 1],
    ['--val-size', options.valueSizeBytes, 0],
    ['--key-space-size', options.keySpaceSize, 1],
    ['--watchers', options.watchers, 1],
    ['--watch-streams', options.watchStreams, 1],
    ['--watch-puts', options.watchPuts, 0],
    ['--watch-put-rate', options.watchPutRate, 0],
    ['--watch-knee-seconds', options.watchKneeSeconds, 1],
    ['--watch-knee-max-rate', options.watchKneeMaxRate, 1],
    ['--max-seconds', options.maxSecondsPerTest, 1],
    ['--request-timeout', options.requestTimeoutMs, 1],
    ['--max-errors', options.maxErrors, 1],
  ];
  for (const [flag, value, minimum] of counts) {
    if (!Number.isInteger(value) || value < minimum) throw new RangeError(`${flag} ${value} must be an integer of at least ${minimum}`);
  }
  if (options.watchStreams > options.watchers) {
    throw new RangeError(`--watch-streams ${options.watchStreams} exceeds --watchers ${options.watchers}`);
  }
  if (options.watchers * options.watchPuts > MAX_WATCH_EVENTS) {
    throw new RangeError(`--watchers × --watch-puts = ${options.watchers * options.watchPuts} events exceeds ${MAX_WATCH_EVENTS}`);
  }
  checkKeySpace({ keySizeBytes: options.keySizeBytes, keySpaceSize: options.keySpaceSize, sequential: options.sequentialKeys });
  for (const test of options.tests) {
    if (!TEST_NAMES.includes(test)) throw new RangeError(`unknown test ${test} (tests: ${TEST_NAMES.join(', ')})`);
  }
}
