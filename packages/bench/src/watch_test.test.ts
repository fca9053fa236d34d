import { describe, expect, it } from 'vitest';
import { FakePool, type FakeFaults } from './fake_pool.js';
import { DEFAULT_OPTIONS, type StoreBenchOptions } from './options.js';
import { runWatchTest } from './watch_test.js';

const options: StoreBenchOptions = {
  ...DEFAULT_OPTIONS,
  watchers: 7,
  watchStreams: 3,
  conns: 2,
  watchPuts: 40,
  watchPutRate: 0,
  maxSecondsPerTest: 1,
};

const run = (faults: FakeFaults = {}, overrides: Partial<StoreBenchOptions> = {}) =>
  runWatchTest(new FakePool(faults), { ...options, ...overrides }, Buffer.from('v'), 'test');

describe('watch fan-out test', () => {
  it('counts every event at every watcher and times each from its put', async () => {
    const result = await run();
    expect(result.stoppedBy).toBe('count');
    expect(result.watch).toMatchObject({ watchers: 7, streams: 3, puts: 40, putsAcknowledged: 40, eventsExpected: 280, eventsReceived: 280, eventsMissing: 0 });
    expect(result.latency.count).toBe(280);
    expect(result.anomalies.count).toBe(0);
    expect(result.failed).toBe(0);
    expect(result.perSecond).toBeGreaterThan(0);
  });

  it('puts at a rate when asked (and so takes about puts ÷ rate)', async () => {
    const started = Date.now();
    const result = await run({}, { watchPutRate: 200, watchPuts: 20 });
    expect(result.watch?.eventsReceived).toBe(140);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('reports an event that never arrives, after waiting out the time limit', async () => {
    const result = await run({ dropEvent: { watcher: 4, putNumber: 10 } });
    expect(result.stoppedBy).toBe('time');
    expect(result.watch?.eventsMissing).toBe(1);
    expect(result.anomalies.samples.join('\n')).toMatch(/watcher 4 missed put 10/);
  });

  it('reports an event delivered twice', async () => {
    const result = await run({ duplicateEventOfPut: 3 });
    expect(result.anomalies.count).toBe(7);
    expect(result.anomalies.samples[0]).toMatch(/got put 3 twice/);
  });
});
