/**
 * What `k8ts bench apiserver` does. Defaults follow the issue: mutations at 200 requests/s for 20 s
 * each (create, then get, then update), then 100 watchers on one namespace's ConfigMaps receiving
 * 1,000 writes made at 200/s. Every count is a flag.
 */

export const API_TEST_NAMES = ['create', 'get', 'update', 'watch', 'watch-knee'] as const;
export type ApiTestName = (typeof API_TEST_NAMES)[number];
/** What runs without --tests: the watch knee takes minutes, so it runs only when named. */
export const DEFAULT_API_TESTS: readonly ApiTestName[] = API_TEST_NAMES.filter((name) => name !== 'watch-knee');

export interface ApiServerBenchOptions {
  readonly tests: readonly ApiTestName[];
  /** Requests per second of each of create, get and update (open loop). */
  readonly ratePerSecond: number;
  /** Seconds each of create, get and update runs. */
  readonly durationSeconds: number;
  /** Bytes of the ConfigMap's data value (the JSON body is this plus about 150 bytes). */
  readonly valueSizeBytes: number;
  /** Keep-alive connections the requests share (Node's http.Agent maxSockets). */
  readonly connections: number;
  /** Requests outstanding at most; the next one waits for a slot and its wait counts in its latency. */
  readonly maxInFlight: number;
  /** Unmeasured requests (creates, then gets) before the tests: connections open, JIT warm. */
  readonly warmupRequests: number;
  readonly watchers: number;
  /** ConfigMaps created in the watched namespace. */
  readonly watchWrites: number;
  readonly watchRatePerSecond: number;
  /** How long the watch test waits, after its last write, for every event to arrive. */
  readonly watchDrainSeconds: number;
  /** watch-knee: creates for this long at each rate, from --watch-rate doubling up to the maximum. */
  readonly watchKneeSeconds: number;
  readonly watchKneeMaxRate: number;
  readonly requestTimeoutMs: number;
  /** A test stops sending after this many failed requests (all are reported). */
  readonly maxErrors: number;
  readonly seed: number;
}

export const DEFAULT_API_OPTIONS: ApiServerBenchOptions = {
  tests: DEFAULT_API_TESTS,
  ratePerSecond: 200,
  durationSeconds: 20,
  valueSizeBytes: 1024,
  connections: 100,
  maxInFlight: 1000,
  warmupRequests: 1500,
  watchers: 100,
  watchWrites: 1000,
  watchRatePerSecond: 200,
  watchDrainSeconds: 30,
  watchKneeSeconds: 5,
  watchKneeMaxRate: 6400,
  requestTimeoutMs: 10_000,
  maxErrors: 1000,
  seed: 1,
};

/** The targets, printed beside the figures; they never change the exit status. */
export const TARGETS = {
  mutationP99Ms: 100,
  mutationRatePerSecond: 200,
  watchEventsPerSecond: 10_000,
} as const;

/** Requests a mutation test may schedule, and watchers × writes the watch test tracks. */
export const MAX_REQUESTS_PER_TEST = 10_000_000;
export const MAX_WATCH_EVENTS = 20_000_000;

/** Throws with the flag's name when an option is out of range. */
export function checkApiOptions(options: ApiServerBenchOptions): void {
  const counts: [string, number, number][] = [
    ['--rate', options.ratePerSecond, 1],
    ['--duration', options.durationSeconds, 1],
    ['--value-size', options.valueSizeBytes, 0],
    ['--connections', options.connections, 1],
    ['--max-in-flight', options.maxInFlight, 1],
    ['--warmup', options.warmupRequests, 0],
    ['--watchers', options.watchers, 1],
    ['--watch-writes', options.watchWrites, 1],
    ['--watch-rate', options.watchRatePerSecond, 1],
    ['--watch-drain', options.watchDrainSeconds, 1],
    ['--watch-knee-seconds', options.watchKneeSeconds, 1],
    ['--watch-knee-max-rate', options.watchKneeMaxRate, 1],
    ['--request-timeout', options.requestTimeoutMs, 1],
    ['--max-errors', options.maxErrors, 1],
  ];
  for (const [flag, value, minimum] of counts) {
    if (!Number.isInteger(value) || value < minimum) throw new RangeError(`${flag} ${value} must be an integer of at least ${minimum}`);
  }
  if (options.ratePerSecond * options.durationSeconds > MAX_REQUESTS_PER_TEST) {
    throw new RangeError(`--rate × --duration = ${options.ratePerSecond * options.durationSeconds} requests exceeds ${MAX_REQUESTS_PER_TEST}`);
  }
  if (options.watchers * options.watchWrites > MAX_WATCH_EVENTS) {
    throw new RangeError(`--watchers × --watch-writes = ${options.watchers * options.watchWrites} events exceeds ${MAX_WATCH_EVENTS}`);
  }
  for (const test of options.tests) {
    if (!API_TEST_NAMES.includes(test)) throw new RangeError(`unknown test ${test} (tests: ${API_TEST_NAMES.join(', ')})`);
  }
  if ((options.tests.includes('get') || options.tests.includes('update')) && !options.tests.includes('create')) {
    throw new RangeError('get and update work on the objects create made: --tests must include create');
  }
}
