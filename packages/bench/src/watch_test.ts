import type { Event, WatchRequest, WatchResponse } from '@k8ts/proto';
import { describeError, ErrorCounts, type StopReason } from './closed_loop.js';
import type { EtcdClientPool, WatchStream } from './etcd_client.js';
import { parseWatchKey, prefixRangeEnd, watchKey } from './keys.js';
import { plural } from './kv_tests.js';
import { MAX_WATCH_EVENTS, type StoreBenchOptions } from './options.js';
import { AnomalyLog, type TestResult } from './results.js';
import { LatencyRecorder, ratePerSecond } from './stats.js';
import { searchKnee } from './watch_knee.js';

/**
 * Watch fan-out: `watchers` watchers on one prefix, spread over `watchStreams` streams (stream s on
 * connection s mod conns); then `watchPuts` puts under the prefix at `watchPutRate` per second.
 * Every watcher must receive every acknowledged put once, in revision order. Measured: events
 * delivered per second (first put sent → last event received) and, per event, the time from
 * sending its put to the event's arrival.
 */

/** Puts in flight at once when putting at a rate (bounds the open loop). */
const MAX_PUTS_IN_FLIGHT = 64;
const POLL_MS = 5;

interface WatchRun {
  readonly prefix: string;
  readonly putCount: number;
  readonly putSentAtMs: Float64Array;
  readonly putAcknowledged: Uint8Array;
  readonly seen: Uint8Array;
  readonly lastRevision: bigint[];
  readonly latency: LatencyRecorder;
  readonly anomalies: AnomalyLog;
  received: number;
  lastEventAtMs: number;
}

export async function runWatchTest(
  pool: EtcdClientPool,
  options: StoreBenchOptions,
  value: Buffer,
  runId: string,
  now: () => number = () => performance.now(),
): Promise<TestResult> {
  const { watchers, watchStreams, watchPuts: putCount, watchPutRate } = options;
  if (watchers * putCount > MAX_WATCH_EVENTS) throw new RangeError(`watchers × puts exceeds ${MAX_WATCH_EVENTS}`);
  const startMs = now();
  const deadlineMs = startMs + options.maxSecondsPerTest * 1000;
  const run: WatchRun = {
    prefix: `/k8ts-bench/watch/${runId}/`,
    putCount,
    putSentAtMs: new Float64Array(putCount).fill(Number.NaN),
    putAcknowledged: new Uint8Array(putCount),
    seen: new Uint8Array(watchers * putCount),
    lastRevision: new Array<bigint>(watchers).fill(0n),
    latency: new LatencyRecorder(watchers * putCount),
    anomalies: new AnomalyLog(),
    received: 0,
    lastEventAtMs: 0,
  };
  const errors = new ErrorCounts();
  const streams: WatchStream[] = [];
  let closing = false;
  let stoppedBy: StopReason = 'count';
  const putLatency = new LatencyRecorder(putCount);
  let putsSent = 0;
  let putsAcknowledged = 0;
  let firstPutAtMs = Number.NaN;
  let putsDoneAtMs = Number.NaN;
  let setupMs = Number.NaN;
  try {
    const created = openWatchers(pool, options, run, errors, streams, now, () => closing);
    const setupTimeoutMs = Math.min(options.requestTimeoutMs, deadlineMs - now());
    const allCreated = await withTimeout(created.all, setupTimeoutMs);
    setupMs = now() - startMs;
    if (!allCreated) {
      errors.add(`watch setup: ${created.count()} of ${watchers} watchers created within ${setupTimeoutMs} ms`);
      stoppedBy = 'time';
    } else {
      // ---- puts ----
      firstPutAtMs = now();
      const inFlight = new Set<Promise<void>>();
      const sendPut = async (index: number): Promise<void> => {
        const sentAtMs = now();
        run.putSentAtMs[index] = sentAtMs;
        try {
          await pool.put(0, { key: watchKey(run.prefix, index, putCount), value });
          putLatency.record(now() - sentAtMs);
          run.putAcknowledged[index] = 1;
          putsAcknowledged += 1;
        } catch (error) {
          errors.add(`put: ${describeError(error)}`);
        }
      };
      for (let index = 0; index < putCount; index += 1) {
        if (errors.total >= options.maxErrors) {
          stoppedBy = 'errors';
          break;
        }
        if (watchPutRate > 0) {
          await sleepUntil(firstPutAtMs + (index * 1000) / watchPutRate, now);
          while (inFlight.size >= MAX_PUTS_IN_FLIGHT) await Promise.race(inFlight);
        }
        if (now() >= deadlineMs) {
          stoppedBy = 'time';
          break;
        }
        putsSent += 1;
        if (watchPutRate > 0) {
          const put = sendPut(index).finally(() => inFlight.delete(put));
          inFlight.add(put);
        } else {
          await sendPut(index);
        }
      }
      await Promise.all(inFlight);
      putsDoneAtMs = now();
      // ---- drain: every watcher gets every acknowledged put, or the time limit ----
      while (!(run.received >= watchers * putsAcknowledged && missingEvents(run, watchers).count === 0)) {
        if (now() >= deadlineMs) {
          stoppedBy = 'time';
          break;
        }
        await sleep(POLL_MS);
      }
    }
  } finally {
    closing = true;
    for (const stream of streams) {
      stream.end();
      stream.cancel();
    }
  }
  const missing = missingEvents(run, watchers);
  if (missing.count > 0) {
    run.anomalies.add(
      `${missing.count} events of acknowledged puts never reached their watchers within the time limit (first: watcher ${missing.firstWatcher} missed put ${missing.firstPut})`,
    );
  }
  const eventWindowMs = run.lastEventAtMs - firstPutAtMs;
  return {
    name: 'watch',
    description:
      `${plural(watchers, 'watcher')} on one prefix over ${plural(watchStreams, 'stream')} and ${plural(Math.min(watchStreams, options.conns), 'conn')}, ` +
      `${putCount} puts ${watchPutRate > 0 ? `at ${watchPutRate}/s` : 'back to back'} from 1 client`,
    unit: 'events',
    clients: 1,
    conns: Math.min(watchStreams, options.conns),
    requested: putCount,
    sent: putsSent,
    completed: putsAcknowledged,
    failed: errors.total,
    errors: errors.toRecord(),
    anomalies: run.anomalies.report(),
    elapsedMs: now() - startMs,
    perSecond: Number.isFinite(eventWindowMs) ? ratePerSecond(run.received, eventWindowMs) : 0,
    latency: run.latency.summary(),
    stoppedBy,
    watch: {
      watchers,
      streams: watchStreams,
      putRatePerSecond: watchPutRate,
      puts: putCount,
      putsAcknowledged,
      putsPerSecond: ratePerSecond(putsAcknowledged, putsDoneAtMs - firstPutAtMs),
      putLatency: putLatency.summary(),
      eventsExpected: watchers * putsAcknowledged,
      eventsReceived: run.received,
      eventsMissing: missing.count,
      setupMs,
    },
  };
}

/**
 * watch-knee: the watch test at rising put rates (from --watch-put-rate, doubling, then the
 * midpoint) with the same watchers, until delivery or the puts fall behind (see watch_knee.ts).
 * Its rate is the events/s delivered at the knee; its latency that step's.
 */
export async function runWatchKneeTest(pool: EtcdClientPool, options: StoreBenchOptions, value: Buffer, runId: string): Promise<TestResult> {
  // Time enough to drain a backlog several times the step: what is still missing after it fell behind.
  const maxSecondsPerTest = Math.max(options.maxSecondsPerTest, 6 * options.watchKneeSeconds + 10);
  const { knee, shown, firstRate, perSecond, failed } = await searchKnee(
    Math.max(1, options.watchPutRate),
    options.watchKneeMaxRate,
    (putRate) => {
      const puts = Math.min(Math.ceil(putRate * options.watchKneeSeconds), Math.floor(MAX_WATCH_EVENTS / options.watchers));
      return runWatchTest(pool, { ...options, watchPutRate: putRate, watchPuts: puts, maxSecondsPerTest }, value, `${runId}-${putRate}`);
    },
    (putRate, result) => ({
      putRate,
      putsPerSecond: result.watch?.putsPerSecond ?? 0,
      eventsPerSecond: result.perSecond,
      watchers: options.watchers,
      eventsMissing: result.watch?.eventsMissing ?? 0,
      failed: result.failed,
      latency: result.latency,
    }),
  );
  const description = `${plural(options.watchers, 'watcher')} on one prefix; puts at rising rates from ${firstRate}/s, ${options.watchKneeSeconds} s each`;
  return { ...shown, name: 'watch-knee', description, perSecond, failed, knee };
}

/** Opens the streams and sends every create request; `all` resolves once each is created. */
function openWatchers(
  pool: EtcdClientPool,
  options: StoreBenchOptions,
  run: WatchRun,
  errors: ErrorCounts,
  streams: WatchStream[],
  now: () => number,
  closing: () => boolean,
): { all: Promise<void>; count: () => number } {
  const { watchers, watchStreams } = options;
  const key = Buffer.from(run.prefix, 'latin1');
  const rangeEnd = prefixRangeEnd(key);
  let createdTotal = 0;
  let firstWatcher = 0;
  const perStream: Promise<void>[] = [];
  for (let s = 0; s < watchStreams; s += 1) {
    const count = Math.floor(watchers / watchStreams) + (s < watchers % watchStreams ? 1 : 0);
    const first = firstWatcher;
    firstWatcher += count;
    const stream = pool.watchStream(s);
    streams.push(stream);
    const watcherById = new Map<string, number>();
    perStream.push(
      new Promise<void>((resolve) => {
        stream.on('data', (response: WatchResponse) => {
          if (response.created) {
            if (response.canceled) {
              errors.add(`watch create canceled: ${response.cancel_reason}`);
              return;
            }
            watcherById.set(response.watch_id, first + watcherById.size);
            createdTotal += 1;
            if (watcherById.size === count) resolve();
            return;
          }
          if (response.canceled) {
            errors.add(`watch ${response.watch_id} canceled: ${response.cancel_reason || '(no reason)'}`);
            return;
          }
          const watcher = watcherById.get(response.watch_id);
          if (watcher === undefined) {
            run.anomalies.add(`events for watch id ${response.watch_id}, which stream ${s} never created`);
            return;
          }
          const atMs = now();
          for (const event of response.events) acceptEvent(run, watcher, event, atMs);
        });
        stream.on('error', (error: unknown) => {
          if (!closing()) errors.add(`watch stream: ${describeError(error)}`);
        });
      }),
    );
    for (let i = 0; i < count; i += 1) {
      stream.write({ create_request: { key, range_end: rangeEnd } } as unknown as WatchRequest);
    }
  }
  return { all: Promise.all(perStream).then(() => undefined), count: () => createdTotal };
}

function acceptEvent(run: WatchRun, watcher: number, event: Event, atMs: number): void {
  const kv = event.kv;
  if (event.type !== 'PUT' || kv === null) {
    run.anomalies.add(`watcher ${watcher} got a ${event.type} event${kv === null ? ' without a key' : ''}; the test only puts`);
    return;
  }
  const index = parseWatchKey(run.prefix, kv.key);
  if (index === undefined || index >= run.putCount) {
    run.anomalies.add(`watcher ${watcher} got an event for ${kv.key.toString()}, which this test never put`);
    return;
  }
  const slot = watcher * run.putCount + index;
  if (run.seen[slot] === 1) {
    run.anomalies.add(`watcher ${watcher} got put ${index} twice`);
    return;
  }
  const revision = BigInt(kv.mod_revision);
  const previous = run.lastRevision[watcher] ?? 0n;
  if (revision <= previous) {
    run.anomalies.add(`watcher ${watcher} got revision ${revision} after revision ${previous}`);
  }
  run.lastRevision[watcher] = revision > previous ? revision : previous;
  run.seen[slot] = 1;
  run.received += 1;
  run.lastEventAtMs = atMs;
  const sentAtMs = run.putSentAtMs[index] ?? Number.NaN;
  if (Number.isNaN(sentAtMs)) {
    run.anomalies.add(`watcher ${watcher} got put ${index} before it was sent`);
    return;
  }
  run.latency.record(atMs - sentAtMs);
}

/** Events not (yet) received for acknowledged puts. */
function missingEvents(run: WatchRun, watchers: number): { count: number; firstWatcher: number; firstPut: number } {
  let count = 0;
  let firstWatcher = -1;
  let firstPut = -1;
  for (let index = 0; index < run.putCount; index += 1) {
    if (run.putAcknowledged[index] !== 1) continue;
    for (let watcher = 0; watcher < watchers; watcher += 1) {
      if (run.seen[watcher * run.putCount + index] === 0) {
        if (count === 0) [firstWatcher, firstPut] = [watcher, index];
        count += 1;
      }
    }
  }
  return { count, firstWatcher, firstPut };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

async function sleepUntil(targetMs: number, now: () => number): Promise<void> {
  const waitMs = targetMs - now();
  if (waitMs > 0) await sleep(waitMs);
}

async function withTimeout(promise: Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
