/**
 * etcd's auto compaction (--auto-compaction-mode, --auto-compaction-retention), run by the leader:
 *
 *  - revision: every 5 minutes, compact to (current revision − retention).
 *  - periodic: keep the history of the last retention period. Revisions are sampled every tenth of
 *    the retention (every hour for retentions above an hour, as etcd 3.4 does); once a full period
 *    has been seen, each sample compacts to the revision observed one retention ago.
 *
 * Pure decision logic: the caller ticks it with the time and the current revision, and performs the
 * compaction it returns through Raft.
 */
export type AutoCompactionMode = 'periodic' | 'revision';

const REVISION_MODE_INTERVAL_MS = 5 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** Parses etcd's retention: a duration (`30m`, `1h`, `90s`) or a bare number (hours, or revisions). */
export function parseRetention(mode: AutoCompactionMode, text: string): number {
  const trimmed = text.trim();
  if (mode === 'revision') {
    const revisions = Number(trimmed);
    if (!Number.isInteger(revisions) || revisions < 0) throw new Error(`--auto-compaction-retention: "${text}" is not a revision count`);
    return revisions;
  }
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * HOUR_MS;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: HOUR_MS };
  let total = 0;
  let rest = trimmed;
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (match === null) throw new Error(`--auto-compaction-retention: "${text}" is not a duration (e.g. 1h, 30m)`);
    total += Number(match[1]) * (units[match[2] ?? 'h'] ?? HOUR_MS);
    rest = rest.slice(match[0].length);
  }
  return total;
}

export class AutoCompactor {
  private readonly samples: { atMs: number; revision: number }[] = [];
  private nextRunMs: number;
  private readonly intervalMs: number;

  /** `retention`: milliseconds (periodic) or revisions (revision); 0 turns compaction off. */
  constructor(
    private readonly mode: AutoCompactionMode,
    private readonly retention: number,
    startMs: number,
  ) {
    this.intervalMs = mode === 'revision' ? REVISION_MODE_INTERVAL_MS : retention > HOUR_MS ? HOUR_MS : Math.max(1, retention / 10);
    this.nextRunMs = startMs + this.intervalMs;
  }

  enabled(): boolean {
    return this.retention > 0;
  }

  /** The revision to compact to now, or undefined. `compacted`: the store's compact revision. */
  tick(nowMs: number, currentRevision: number, compacted: number): number | undefined {
    if (!this.enabled() || nowMs < this.nextRunMs) return undefined;
    this.nextRunMs = nowMs + this.intervalMs;
    let target: number | undefined;
    if (this.mode === 'revision') {
      target = currentRevision - this.retention;
    } else {
      this.samples.push({ atMs: nowMs, revision: currentRevision });
      // The newest sample at least one retention old marks what may go.
      let old: { atMs: number; revision: number } | undefined;
      while (this.samples.length > 0 && nowMs - (this.samples[0]?.atMs ?? nowMs) >= this.retention) old = this.samples.shift();
      target = old?.revision;
    }
    return target !== undefined && target > compacted && target > 0 ? target : undefined;
  }
}
