import { resourceVersionOf, type ApiClient, type ConfigMapLike } from './apiserver_http.js';
import { runOpenLoop } from './apiserver_open_loop.js';
import { MAX_WATCH_EVENTS, type ApiServerBenchOptions } from './apiserver_options.js';
import { configMapBody, configMapsPath, objectName } from './apiserver_requests.js';
import type { ApiTestResult } from './apiserver_results.js';
import { openWatch, type OpenWatch, type WatchEvent } from './apiserver_watch_stream.js';
import { describeError, ErrorCounts } from './closed_loop.js';
import { LatencyRecorder, ratePerSecond } from './stats.js';
import { searchKnee } from './watch_knee.js';

/**
 * Watch fan-out: `--watchers` HTTP watches (a connection each) on one namespace's ConfigMaps, all
 * from the resourceVersion of a list made just before; once every watch is open, `--watch-writes`
 * ConfigMaps are created there at `--watch-rate` (an open loop). Every watcher must see an ADDED
 * event for every acknowledged create, once. Measured: events delivered per second across all
 * watchers (first write sent → last event received), the events in each second, and per event the
 * time from sending its create to the event's arrival at the watcher.
 */

const POLL_MS = 10;

/** Which watcher saw which write: one byte per pair, so a duplicate or a gap is found exactly. */
export class DeliveryLedger {
  private readonly seen: Uint8Array;
  received = 0;
  duplicates = 0;

  constructor(
    readonly watchers: number,
    readonly writes: number,
  ) {
    this.seen = new Uint8Array(watchers * writes);
  }

  /** Records watcher w seeing write i; false (and counted) when it saw it already. */
  deliver(watcher: number, write: number): boolean {
    const slot = watcher * this.writes + write;
    if (this.seen[slot] === 1) {
      this.duplicates += 1;
      return false;
    }
    this.seen[slot] = 1;
    this.received += 1;
    return true;
  }

  /** Events of acknowledged writes that open watchers have not seen. */
  missing(openWatchers: readonly number[], acknowledged: Uint8Array): number {
    let count = 0;
    for (const watcher of openWatchers) {
      for (let write = 0; write < this.writes; write += 1) {
        if (acknowledged[write] === 1 && this.seen[watcher * this.writes + write] !== 1) count += 1;
      }
    }
    return count;
  }
}

/** Events per whole second from `startMs`: bucket k counts arrivals in [k s, k+1 s). */
export class SecondBuckets {
  private readonly counts: number[] = [];

  constructor(private readonly startMs: number) {}

  add(atMs: number): void {
    const second = Math.max(0, Math.floor((atMs - this.startMs) / 1000));
    while (this.counts.length <= second) this.counts.push(0);
    this.counts[second] = (this.counts[second] ?? 0) + 1;
  }

  series(): number[] {
    return [...this.counts];
  }
}

/** The write index of an object this test created (`w-000042` → 42), or undefined. */
export function writeIndexOf(name: string | undefined, writes: number, prefix = 'w'): number | undefined {
  if (name === undefined || !name.startsWith(`${prefix}-`)) return undefined;
  const index = Number(name.slice(prefix.length + 1));
  return Number.isInteger(index) && index >= 0 && index < writes ? index : undefined;
}

/** `prefix` names this run's objects (`<prefix>-000042`), so runs can share a namespace. */
export async function runWatchFanOut(client: ApiClient, options: ApiServerBenchOptions, namespace: string, value: string, prefix = 'w'): Promise<ApiTestResult> {
  const now = (): number => performance.now();
  const { watchers, watchWrites: writes, watchRatePerSecond: rate } = options;
  const errors = new ErrorCounts();
  const ledger = new DeliveryLedger(watchers, writes);
  const latency = new LatencyRecorder(watchers * writes);
  const writeSentAtMs = new Float64Array(writes).fill(Number.NaN);
  const acknowledged = new Uint8Array(writes);
  const writeLatency = new LatencyRecorder(writes);
  let unexpected = 0;
  let ended = 0;
  let lastEventAtMs = Number.NaN;
  let buckets: SecondBuckets | undefined;
  const startMs = now();

  const onEvent = (watcher: number) => (event: WatchEvent, atMs: number): void => {
    const write = writeIndexOf(event.name, writes, prefix);
    if (event.type !== 'ADDED' || write === undefined) {
      unexpected += 1;
      if (event.type === 'ERROR' || event.type === 'UNPARSABLE') errors.add(`watch ${event.type}: ${event.message ?? '?'}`);
      return;
    }
    if (!ledger.deliver(watcher, write)) {
      unexpected += 1;
      return;
    }
    const sentAtMs = writeSentAtMs[write] ?? Number.NaN;
    if (Number.isFinite(sentAtMs)) latency.record(Math.max(0, atMs - sentAtMs));
    buckets?.add(atMs);
    lastEventAtMs = atMs;
  };

  const list = await client.json<ConfigMapLike>('GET', configMapsPath(namespace), undefined, [200]);
  const fromVersion = resourceVersionOf(list);
  const watches: OpenWatch[] = [];
  const opened: number[] = [];
  let firstWriteAtMs = Number.NaN;
  let writesDoneAtMs = Number.NaN;
  let stoppedBy: ApiTestResult['stoppedBy'] = 'schedule';
  let loop: Awaited<ReturnType<typeof runOpenLoop>> | undefined;
  let setupMs = Number.NaN;
  try {
    for (let watcher = 0; watcher < watchers; watcher += 1) {
      const path = `${configMapsPath(namespace)}?watch=true&resourceVersion=${fromVersion}`;
      const watch = openWatch(client.server, path, { onEvent: onEvent(watcher), onEnd: (reason) => ((ended += 1), errors.add(`watch: ${reason}`)) });
      watches.push(watch);
      watch.opened.then(
        () => opened.push(watcher),
        (error: unknown) => errors.add(`watch open: ${describeError(error)}`),
      );
    }
    await Promise.race([Promise.allSettled(watches.map((watch) => watch.opened)), sleep(options.requestTimeoutMs, { unref: true })]);
    setupMs = now() - startMs;
    if (opened.length < watchers) errors.add(`watch setup: ${opened.length} of ${watchers} watches open within ${options.requestTimeoutMs} ms`);
    if (opened.length > 0) {
      firstWriteAtMs = now();
      buckets = new SecondBuckets(firstWriteAtMs);
      loop = await runOpenLoop({
        ratePerSecond: rate,
        count: writes,
        maxInFlight: options.maxInFlight,
        maxErrors: options.maxErrors,
        describeError,
        operation: async (index) => {
          writeSentAtMs[index] = now();
          const name = objectName(prefix, index);
          await client.json<ConfigMapLike>('POST', configMapsPath(namespace), configMapBody(namespace, name, value), [201]);
          writeLatency.record(now() - (writeSentAtMs[index] ?? Number.NaN));
          acknowledged[index] = 1;
        },
      });
      writesDoneAtMs = now();
      const drainDeadlineMs = now() + options.watchDrainSeconds * 1000;
      while (ledger.missing(opened, acknowledged) > 0) {
        if (now() >= drainDeadlineMs) {
          stoppedBy = 'time';
          break;
        }
        await sleep(POLL_MS);
      }
    }
  } finally {
    for (const watch of watches) watch.close();
  }
  for (const [message, count] of Object.entries(loop?.errors ?? {})) for (let i = 0; i < count; i += 1) errors.add(`write: ${message}`);
  const writesAcknowledged = acknowledged.reduce((sum, flag) => sum + flag, 0);
  const eventsMissing = ledger.missing(opened, acknowledged);
  const windowMs = lastEventAtMs - firstWriteAtMs;
  return {
    name: 'watch',
    description: `${watchers} HTTP watches on one namespace's ConfigMaps, ${writes} creates there at ${rate}/s`,
    unit: 'events',
    ratePerSecond: rate,
    scheduled: writes,
    sent: loop?.sent ?? 0,
    completed: writesAcknowledged,
    failed: errors.total,
    errors: errors.toRecord(),
    elapsedMs: now() - startMs,
    perSecond: Number.isFinite(windowMs) ? ratePerSecond(ledger.received, windowMs) : 0,
    latency: latency.summary(),
    serviceLatency: writeLatency.summary(),
    maxSendLagMs: loop?.maxSendLagMs ?? 0,
    inFlightWaits: loop?.inFlightWaits ?? 0,
    stoppedBy: loop?.stoppedBy === 'errors' ? 'errors' : stoppedBy,
    watch: {
      watchers,
      watchersOpened: opened.length,
      writes,
      writesAcknowledged,
      writesPerSecond: Number.isFinite(writesDoneAtMs) ? ratePerSecond(writesAcknowledged, writesDoneAtMs - firstWriteAtMs) : 0,
      writeLatency: writeLatency.summary(),
      eventsExpected: opened.length * writesAcknowledged,
      eventsReceived: ledger.received,
      eventsMissing,
      eventsUnexpected: unexpected,
      watchesEnded: ended,
      eventsPerSecondSeries: buckets?.series() ?? [],
      setupMs,
    },
  };
}

/**
 * watch-knee: the fan-out at rising create rates (from --watch-rate, doubling, then the midpoint)
 * with the same number of watchers, until delivery or the creates fall behind (see watch_knee.ts).
 * Its rate is the events/s delivered at the knee; its latency that step's.
 */
export async function runWatchKnee(client: ApiClient, options: ApiServerBenchOptions, namespace: string, value: string): Promise<ApiTestResult> {
  const { knee, shown, firstRate, perSecond, failed } = await searchKnee(
    options.watchRatePerSecond,
    options.watchKneeMaxRate,
    (rate) => {
      const writes = Math.min(Math.ceil(rate * options.watchKneeSeconds), Math.floor(MAX_WATCH_EVENTS / options.watchers));
      return runWatchFanOut(client, { ...options, watchRatePerSecond: rate, watchWrites: writes }, namespace, value, `k${rate}`);
    },
    (rate, result) => ({
      putRate: rate,
      putsPerSecond: result.watch?.writesPerSecond ?? 0,
      eventsPerSecond: result.perSecond,
      watchers: result.watch?.watchersOpened ?? 0,
      eventsMissing: result.watch?.eventsMissing ?? 0,
      failed: result.failed,
      latency: result.latency,
    }),
  );
  const description = `${options.watchers} HTTP watches on one namespace's ConfigMaps; creates at rising rates from ${firstRate}/s, ${options.watchKneeSeconds} s each`;
  return { ...shown, name: 'watch-knee', description, perSecond, failed, knee };
}

function sleep(ms: number, { unref = false } = {}): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    if (unref) timer.unref(); // a deadline that must not keep the process alive once the race is won
  });
}
