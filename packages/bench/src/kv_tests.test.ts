import { describe, expect, it } from 'vitest';
import { FakePool, type FakeFaults } from './fake_pool.js';
import { KeyChooser, makeValue, seededRandom } from './keys.js';
import { runPutTest, runRangeTest, WrittenState, type KvTestContext } from './kv_tests.js';
import { DEFAULT_OPTIONS, type StoreBenchOptions } from './options.js';

const options: StoreBenchOptions = { ...DEFAULT_OPTIONS, clients: 5, conns: 2, total: 200, rangeTotal: 200, keySpaceSize: 50, maxSecondsPerTest: 5 };

function context(faults: FakeFaults = {}): KvTestContext {
  const random = seededRandom(1);
  return {
    pool: new FakePool(faults),
    options,
    keys: new KeyChooser({ keySizeBytes: 8, keySpaceSize: 50, sequential: false }, random),
    value: makeValue(16, random),
    state: new WrittenState(50),
  };
}

describe('put and range tests against a store that keeps its promises', () => {
  it('report every request, no failures and no anomalies', async () => {
    const ctx = context();
    const puts = await runPutTest(ctx, { name: 'put-concurrent', clients: 5, conns: 2, total: 200 });
    expect(puts).toMatchObject({ unit: 'writes', requested: 200, sent: 200, completed: 200, failed: 0, stoppedBy: 'count' });
    expect(puts.anomalies.count).toBe(0);
    expect(puts.latency.count).toBe(200);
    expect(ctx.state.maxAcknowledgedRevision).toBe(201n);

    for (const serializable of [false, true]) {
      const reads = await runRangeTest(ctx, serializable ? 'range-serializable' : 'range-linearizable', serializable);
      expect(reads).toMatchObject({ unit: 'reads', completed: 200, failed: 0 });
      expect(reads.anomalies).toEqual({ count: 0, samples: [] });
      expect(reads.readsFound).toBeGreaterThan(150); // 200 random puts over 50 keys wrote nearly all
    }
  });
});

describe('the checks have teeth', () => {
  it('a linearizable read that misses acknowledged writes is an anomaly', async () => {
    const ctx = context({ staleLinearizableReads: true });
    await runPutTest(ctx, { name: 'put-concurrent', clients: 5, conns: 2, total: 100 });
    const reads = await runRangeTest(ctx, 'range-linearizable', false);
    expect(reads.anomalies.count).toBeGreaterThan(0);
    expect(reads.anomalies.samples[0]).toMatch(/below acknowledged put revision/);
    // The same stale answers are allowed of serializable reads? No: the fake only goes stale on
    // linearizable ones, and serializable reads see no anomaly.
    const serializable = await runRangeTest(ctx, 'range-serializable', true);
    expect(serializable.anomalies.count).toBe(0);
  });

  it('puts acknowledged at a revision that does not grow are an anomaly', async () => {
    const ctx = context({ frozenPutRevision: true });
    const puts = await runPutTest(ctx, { name: 'put-sequential', clients: 1, conns: 1, total: 10 });
    expect(puts.anomalies.count).toBe(9);
    expect(puts.anomalies.samples[0]).toMatch(/not above its previous put's/);
  });
});
