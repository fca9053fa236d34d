// The one-member power-loss run (power_loss.test.ts): a seeded stream of Raft-shaped saves into a
// RaftStorage over PowerLossFs, a power cut at a seeded point, and a check of what `open` recovers
// against every save whose promise had resolved.
import type { Entry, HardState, PersistedState, Snapshot } from '@k8ts/raft';
import { isDeepStrictEqual } from 'node:util';
import { pino } from 'pino';
import { RaftStorage, type StorageUpdate } from '../raft_storage.js';
import type { SyncThreadGate } from '../wal/sync_thread_gate.js';
import { entry, snapshotAt } from './fixtures.js';
import type { FileLoss, PowerLossFs } from './power_loss_fs.js';

/** A log and hard state the storage must be able to return: the state after some prefix of the saves' records. */
interface ModelState {
  readonly hardState: HardState;
  /** Every entry of the log, from the last installed snapshot on (earlier ones may be compacted away). */
  readonly log: ReadonlyMap<number, Entry>;
  readonly lastIndex: number;
  /** The index of the last installed snapshot: the log holds nothing at or below it. */
  readonly floor: number;
}

export type Verdict =
  | { readonly kind: 'ok'; readonly matchedRecords: number; readonly ackedRecords: number }
  | { readonly kind: 'lost'; readonly detail: string }
  | { readonly kind: 'unrecoverable'; readonly error: string };

export interface PhaseReport {
  readonly verdict: Verdict;
  readonly saves: number;
  readonly acked: number;
  readonly losses: readonly FileLoss[];
}

const quiet = pino({ level: 'silent' });
/** Small segments, so that runs cut many and release them after snapshots. */
export const SMALL_SEGMENT_BYTES = 1024;

/**
 * One member's life between two power cuts. Records the model state after every WAL record the saves
 * write (records are written in call order), and which of them were acknowledged, so that after the
 * cut the recovered state can be matched against "some prefix of the records, at least the acked ones".
 */
export class PowerLossRun {
  /** states[k]: the state after the first k records of this run. */
  private readonly states: ModelState[];
  private ackedRecords = 0;
  /** The highest index of a snapshot whose save or saveSnapshot resolved. */
  private ackedSnapshotIndex: number;
  private readonly snapshots = new Map<number, Snapshot>();
  private saves = 0;
  private acked = 0;
  /** What the storage's checks see: the state of the last call, durable or not. */
  private called: ModelState;
  private snapshotIndex: number;

  private constructor(
    private readonly storage: RaftStorage,
    start: ModelState,
    snapshotIndex: number,
    snapshots: ReadonlyMap<number, Snapshot>,
    private readonly random: () => number,
  ) {
    this.states = [start];
    this.called = start;
    this.snapshotIndex = snapshotIndex;
    this.ackedSnapshotIndex = snapshotIndex;
    for (const [index, snapshot] of snapshots) this.snapshots.set(index, snapshot);
  }

  /** Opens the storage (recovering what the disk holds) and starts a run from what it recovered. */
  static start(
    storage: RaftStorage,
    start: ModelState | undefined,
    snapshots: ReadonlyMap<number, Snapshot>,
    random: () => number,
  ): PowerLossRun {
    const loaded = storage.load();
    const state = start ?? { hardState: loaded.hardState, log: new Map(), lastIndex: 0, floor: 0 };
    return new PowerLossRun(storage, state, loaded.snapshot?.meta.index ?? 0, snapshots, random);
  }

  /** Issues saves until `stop()` says so, a few at a time without waiting, as a Raft node does. */
  async drive(stop: () => boolean): Promise<void> {
    while (!stop()) {
      const burst = Array.from({ length: 1 + this.int(4) }, () => this.step());
      if (this.random() < 0.5) await Promise.race(burst);
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The state to continue from after a power cut, when the verdict was ok. */
  matched(verdict: Verdict): ModelState {
    if (verdict.kind !== 'ok') throw new Error(`no state to continue from: ${JSON.stringify(verdict)}`);
    return this.states[verdict.matchedRecords] as ModelState;
  }

  allSnapshots(): ReadonlyMap<number, Snapshot> {
    return this.snapshots;
  }

  counts(): { saves: number; acked: number } {
    return { saves: this.saves, acked: this.acked };
  }

  /** Compares what a fresh `open` recovered with the records of this run. */
  check(recovered: PersistedState): Verdict {
    const snapshotIndex = recovered.snapshot?.meta.index ?? 0;
    if (snapshotIndex < this.ackedSnapshotIndex) {
      return { kind: 'lost', detail: `recovered snapshot ${snapshotIndex}, but the one at ${this.ackedSnapshotIndex} was acknowledged` };
    }
    if (recovered.snapshot !== undefined && !isDeepStrictEqual(recovered.snapshot, this.snapshots.get(snapshotIndex))) {
      return { kind: 'lost', detail: `recovered snapshot at ${snapshotIndex} is not the one saved there` };
    }
    for (let k = this.states.length - 1; k >= this.ackedRecords; k -= 1) {
      if (matches(recovered, this.states[k] as ModelState)) return { kind: 'ok', matchedRecords: k, ackedRecords: this.ackedRecords };
    }
    const earlier = this.states.slice(0, this.ackedRecords).findLastIndex((state) => matches(recovered, state));
    const lastIndex = recovered.entries.at(-1)?.index ?? snapshotIndex;
    const acked = this.states[this.ackedRecords] as ModelState;
    return {
      kind: 'lost',
      detail:
        `recovered hard state ${JSON.stringify(recovered.hardState)} and log ..${lastIndex}; acknowledged: ` +
        `${JSON.stringify(acked.hardState)} and log ..${acked.lastIndex} (record ${this.ackedRecords} of ${this.states.length - 1}); ` +
        (earlier >= 0 ? `it is the state after record ${earlier}` : 'it matches no state of the run'),
    };
  }

  private step(): Promise<void> {
    const choice = this.random();
    const { hardState, lastIndex } = this.called;
    // A save torn after its entries keeps them without the hard state written after them, so the log
    // can hold a term above the hard state's. A member only ever appends at or above the log's term.
    const logTerm = Math.max(hardState.term, this.called.log.get(lastIndex)?.term ?? 0);
    if (choice < 0.05 && hardState.commit > this.snapshotIndex && hardState.commit <= lastIndex) {
      return this.compact(hardState.commit);
    }
    if (choice < 0.08) {
      // A snapshot from the leader, past the end of the log: it replaces the whole log.
      const term = logTerm + 1;
      const index = lastIndex + 1 + this.int(5);
      const snapshot = snapshotAt(index, term);
      return this.save({ snapshot, entries: [], hardState: { term, vote: 0, commit: index } });
    }
    if (choice < 0.15) {
      // A new term: a vote, maybe a truncation of the uncommitted tail by a new leader's entries.
      const term = logTerm + 1;
      const from = Math.max(this.snapshotIndex, hardState.commit) + 1 + this.int(Math.max(1, lastIndex - hardState.commit));
      const first = Math.min(from, lastIndex + 1);
      const entries = Array.from({ length: this.int(3) }, (_, offset) => this.entry(first + offset, term));
      return this.save({ entries, hardState: { term, vote: 1 + this.int(3), commit: hardState.commit } });
    }
    if (choice < 0.25 && hardState.commit < lastIndex) {
      // Only the commit index moved: no fdatasync of its own (etcd's MustSync is false then).
      return this.save({ entries: [], hardState: { ...hardState, commit: hardState.commit + 1 + this.int(lastIndex - hardState.commit) }, sync: false });
    }
    const term = Math.max(logTerm, 1);
    const entries = Array.from({ length: 1 + this.int(4) }, (_, offset) => this.entry(lastIndex + 1 + offset, term));
    const newLast = lastIndex + entries.length;
    const commit = Math.min(newLast, hardState.commit + this.int(4));
    return this.save({ entries, hardState: { term, vote: hardState.vote, commit } });
  }

  private entry(index: number, term: number): Entry {
    const sizes = [0, 40, 300, 2000, 5000];
    return entry(index, term, sizes[this.int(sizes.length)]);
  }

  /** Saves, recording the model state after each record it writes (marker, entries, hard state). */
  private save(update: StorageUpdate): Promise<void> {
    let state = this.called;
    if (update.snapshot !== undefined) {
      const { index } = update.snapshot.meta;
      this.snapshots.set(index, update.snapshot);
      state = { ...state, log: new Map(), lastIndex: index, floor: index };
      this.states.push(state);
    }
    for (const each of update.entries) {
      const log = new Map([...state.log].filter(([index]) => index < each.index));
      log.set(each.index, each);
      state = { ...state, log, lastIndex: each.index };
      this.states.push(state);
    }
    if (update.hardState !== undefined) {
      state = { ...state, hardState: update.hardState };
      this.states.push(state);
    }
    this.called = state;
    if (update.snapshot !== undefined) this.snapshotIndex = update.snapshot.meta.index;
    const records = this.states.length - 1;
    const snapshotIndex = update.snapshot?.meta.index;
    this.saves += 1;
    return this.storage.save(update).then(
      () => {
        this.acked += 1;
        this.ackedRecords = Math.max(this.ackedRecords, records);
        if (snapshotIndex !== undefined) this.ackedSnapshotIndex = Math.max(this.ackedSnapshotIndex, snapshotIndex);
      },
      () => undefined, // failed with the power: never acknowledged
    );
  }

  private compact(index: number): Promise<void> {
    const term = this.called.log.get(index)?.term ?? this.called.hardState.term;
    const snapshot = snapshotAt(index, term);
    this.snapshots.set(index, snapshot);
    this.snapshotIndex = index;
    this.saves += 1;
    return this.storage.saveSnapshot(snapshot).then(
      () => {
        this.acked += 1;
        this.ackedSnapshotIndex = Math.max(this.ackedSnapshotIndex, index);
      },
      () => undefined,
    );
  }

  private int(maxExclusive: number): number {
    return Math.floor(this.random() * maxExclusive);
  }
}

/** Whether the recovered state is exactly `state` (entries below the recovered snapshot compacted away). */
function matches(recovered: PersistedState, state: ModelState): boolean {
  const snapshotIndex = recovered.snapshot?.meta.index ?? 0;
  const lastIndex = recovered.entries.at(-1)?.index ?? snapshotIndex;
  if (!isDeepStrictEqual(recovered.hardState, state.hardState) || lastIndex !== state.lastIndex) return false;
  if (snapshotIndex < state.floor || (recovered.entries[0] !== undefined && recovered.entries[0].index !== snapshotIndex + 1)) return false;
  const term = state.log.get(snapshotIndex)?.term;
  if (recovered.snapshot !== undefined && term !== undefined && term !== recovered.snapshot.meta.term) return false;
  return recovered.entries.every((each) => isDeepStrictEqual(each, state.log.get(each.index)));
}

/**
 * One seed: `phases` runs, each cut by a power loss after a seeded number of event-loop turns (so
 * saves, syncs, segment cuts and snapshot writes are caught half done), then a fresh `open` on what
 * survived and a check. Stops at the first phase whose verdict is not ok.
 */
export async function powerLossSeed(
  fs: PowerLossFs,
  random: () => number,
  phases: number,
  segmentSizeBytes = SMALL_SEGMENT_BYTES,
  syncThread?: () => SyncThreadGate,
): Promise<PhaseReport[]> {
  const options = { segmentSizeBytes, retainedSnapshotFiles: 2, logger: quiet };
  // Each boot gets a gate of its own, as each start of a member does.
  const open = (fs: PowerLossFs): Promise<RaftStorage> =>
    RaftStorage.open('/member', { ...options, fs, ...(syncThread === undefined ? {} : { syncThread: syncThread() }) });
  const reports: PhaseReport[] = [];
  let disk = fs;
  let start: ModelState | undefined;
  let snapshots: ReadonlyMap<number, Snapshot> = new Map();
  let storage = await open(disk);
  for (let phase = 0; phase < phases; phase += 1) {
    const run = PowerLossRun.start(storage, start, snapshots, random);
    let cut = false;
    const driving = run.drive(() => cut);
    const turns = Math.floor(random() * 400);
    for (let turn = 0; turn < turns; turn += 1) await new Promise<void>((resolve) => setImmediate(resolve));
    cut = true;
    const { rebooted, losses } = disk.powerLoss(random);
    await driving;
    disk = rebooted;
    let verdict: Verdict;
    try {
      storage = await open(disk);
      verdict = run.check(storage.load());
    } catch (error) {
      reports.push({ verdict: { kind: 'unrecoverable', error: error instanceof Error ? error.message : String(error) }, losses, ...run.counts() });
      return reports;
    }
    reports.push({ verdict, losses, ...run.counts() });
    if (verdict.kind !== 'ok') break;
    start = run.matched(verdict);
    snapshots = run.allSnapshots();
  }
  await storage.close();
  return reports;
}
