import { describe, expect, test } from 'vitest';
import { seededRandom } from '@k8ts/base';
import { PowerLossFs } from './testing/power_loss_fs.js';
import { powerLossSeed, type PhaseReport } from './testing/power_loss_workload.js';
import type { SyncThreadGate } from './wal/sync_thread_gate.js';

// A power cut keeps only what was synced (plus a torn prefix of the rest, see PowerLossFs): every save
// whose promise resolved must come back. Each seed runs three lives of one member, each cut at a
// seeded point — often with saves, syncs, segment cuts or snapshot writes half done.
const SEEDS = 200;
const PHASES = 3;

function failures(reports: readonly PhaseReport[], seed: number): string[] {
  return reports.flatMap((report, phase) =>
    report.verdict.kind === 'ok' ? [] : [`seed ${seed}, cut ${phase + 1}: ${JSON.stringify(report.verdict)}; ${JSON.stringify(report.losses)}`],
  );
}

// The member runs a lone writer's fdatasyncs on the calling thread (wal/sync_thread_gate.ts), so every
// run below goes three ways: each fdatasync in libuv's pool (no gate), each on the calling thread, and
// the two taking turns.
const always = (): SyncThreadGate => ({ onCallingThread: () => true, synced: () => undefined });
const alternating = (): SyncThreadGate => {
  let here = false;
  return { onCallingThread: () => (here = !here), synced: () => undefined };
};
// With every fdatasync blocking, a cut never falls inside one, so torn pages are rare there (only
// unsynced commit-only saves leave dirty pages): the other two runs cover tearing.
const THREADS: [string, (() => SyncThreadGate) | undefined, number | undefined][] = [
  ['the thread pool', undefined, SEEDS / 10],
  ['the calling thread', always, undefined],
  ['the two taking turns', alternating, SEEDS / 10],
];

describe('RaftStorage under power loss (one member, PowerLossFs)', () => {
  test.each(THREADS)(`every acknowledged save survives ${PHASES} power cuts, for ${SEEDS} seeds, fdatasync on %s`, async (_name, gate, tornMoreThan) => {
    const found: string[] = [];
    let acked = 0;
    let saves = 0;
    let torn = 0;
    for (let seed = 1; seed <= SEEDS; seed += 1) {
      const reports = await powerLossSeed(new PowerLossFs(), seededRandom(seed), PHASES, undefined, gate);
      found.push(...failures(reports, seed));
      for (const report of reports) {
        acked += report.acked;
        saves += report.saves;
        torn += report.losses.filter((loss) => (loss.tornBytes ?? 0) > 0).length;
      }
    }
    expect(found).toEqual([]);
    // The runs did what they are for: many saves acknowledged, many cut in flight, pages torn.
    expect(acked).toBeGreaterThan(SEEDS * PHASES);
    expect(saves - acked).toBeGreaterThan(SEEDS);
    if (tornMoreThan !== undefined) expect(torn).toBeGreaterThan(tornMoreThan);
  });

  // The same runs with the WAL's fdatasync removed (a disk on which it does nothing) must fail the check.
  test.each(THREADS.slice(0, 2))('with the fdatasync removed every seed loses acknowledged saves, fdatasync on %s', async (_name, gate) => {
    const verdicts: string[] = [];
    for (let seed = 1; seed <= 20; seed += 1) {
      const reports = await powerLossSeed(new PowerLossFs({ lying: 'fdatasync' }), seededRandom(seed), PHASES, undefined, gate);
      const last = reports.at(-1);
      if (last !== undefined && last.acked > 0) verdicts.push(last.verdict.kind);
    }
    // Mostly refused at recovery: a segment before the last one lost its tail (WalCorruptionError).
    expect(verdicts.filter((kind) => kind !== 'ok')).toHaveLength(20);
  });

  test('with the fdatasync removed and one segment, recovery silently comes back with older state', async () => {
    const silent: number[] = [];
    for (let seed = 1; seed <= 60 && silent.length < 3; seed += 1) {
      const reports = await powerLossSeed(new PowerLossFs({ lying: 'fdatasync' }), seededRandom(seed), PHASES, 64 * 1024 * 1024);
      if (reports.some((report) => report.verdict.kind === 'lost')) silent.push(seed);
    }
    expect(silent, 'seeds (of the first 60) whose recovered state lacks acknowledged saves').toHaveLength(3);
  });
});
