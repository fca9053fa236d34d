import type { Entry, NodeId, Raft, Snapshot } from '../src/index.js';

/** A broken safety property, named, with what was seen. */
export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation';
  constructor(
    readonly property: string,
    detail: string,
  ) {
    super(`${property}: ${detail}`);
  }
}

interface EntryIdentity {
  readonly term: number;
  readonly content: string;
}

/** What the checker needs to see of a node's log. */
export interface LogView {
  snapshotIndex(): number;
  term(index: number): number | undefined;
}

export function viewOf(raft: Raft): LogView {
  return { snapshotIndex: () => raft.log.snapshot.meta.index, term: (index) => raft.log.term(index) };
}

export function entryContent(entry: Entry): string {
  return `${entry.type}:${new TextDecoder().decode(entry.data)}`;
}

/**
 * Raft's safety properties (figure 3 of the paper), checked incrementally as the simulation runs:
 *  - Election Safety: at most one leader per term.
 *  - Log Matching: entries with the same index and term hold the same command and follow the same
 *    previous term, so (by induction) logs agreeing on an entry agree on everything before it.
 *  - Leader Completeness: a new leader's log holds every entry already applied anywhere.
 *  - State Machine Safety: no two nodes apply different entries at one index.
 *  - Durability: no proposal acknowledged to a client is lost, and reads see every acknowledged write.
 */
export class SafetyChecker {
  private readonly leaders = new Map<number, NodeId>();
  /** "index:term" → the entry's content and the term of the entry before it. */
  private readonly appended = new Map<string, { content: string; previousTerm: number }>();
  private readonly applied = new Map<number, EntryIdentity>();
  private readonly acknowledged = new Map<string, number>();
  private highestAcknowledgedIndex = 0;

  onLeader(id: NodeId, term: number, log: LogView): void {
    const existing = this.leaders.get(term);
    if (existing !== undefined && existing !== id) {
      throw new SafetyViolation('Election Safety', `nodes ${existing} and ${id} both lead term ${term}`);
    }
    this.leaders.set(term, id);
    for (const [index, identity] of this.applied) {
      if (index <= log.snapshotIndex()) continue;
      const held = log.term(index);
      if (held !== identity.term) {
        throw new SafetyViolation(
          'Leader Completeness',
          `leader ${id} of term ${term} lacks applied entry ${index}@${identity.term} (holds ${held === undefined ? 'nothing' : `term ${held}`} there)`,
        );
      }
    }
  }

  onAppend(id: NodeId, entries: readonly Entry[], log: LogView): void {
    let previousTerm = entries.length > 0 ? log.term((entries[0]?.index ?? 1) - 1) : undefined;
    for (const entry of entries) {
      const key = `${entry.index}:${entry.term}`;
      const content = entryContent(entry);
      const seen = this.appended.get(key);
      if (seen === undefined) {
        this.appended.set(key, { content, previousTerm: previousTerm ?? -1 });
      } else if (seen.content !== content) {
        throw new SafetyViolation('Log Matching', `node ${id} holds ${key} = ${content}, another node ${seen.content}`);
      } else if (previousTerm !== undefined && seen.previousTerm !== -1 && seen.previousTerm !== previousTerm) {
        throw new SafetyViolation(
          'Log Matching',
          `node ${id} holds ${key} after term ${previousTerm}, another node after term ${seen.previousTerm}`,
        );
      }
      previousTerm = entry.term;
    }
  }

  /** `appliedIndex`: what the node's state machine had applied before; a snapshot may not take it back. */
  onSnapshotInstalled(id: NodeId, snapshot: Snapshot, appliedIndex = 0): void {
    const { index, term } = snapshot.meta;
    if (index < appliedIndex) {
      throw new SafetyViolation('State Machine Safety', `node ${id} installed snapshot ${index}@${term} after applying ${appliedIndex}: its state went back`);
    }
    const applied = this.applied.get(index);
    if (applied !== undefined && applied.term !== term) {
      throw new SafetyViolation('State Machine Safety', `node ${id} installed snapshot ${index}@${term}, but ${index}@${applied.term} was applied`);
    }
  }

  onApply(id: NodeId, entry: Entry): void {
    const content = entryContent(entry);
    const existing = this.applied.get(entry.index);
    if (existing === undefined) {
      this.applied.set(entry.index, { term: entry.term, content });
    } else if (existing.term !== entry.term || existing.content !== content) {
      throw new SafetyViolation(
        'State Machine Safety',
        `node ${id} applied ${entry.index}@${entry.term} (${content}), another node ${entry.index}@${existing.term} (${existing.content})`,
      );
    }
  }

  onAcknowledged(value: string, index: number): void {
    this.acknowledged.set(value, index);
    this.highestAcknowledgedIndex = Math.max(this.highestAcknowledgedIndex, index);
  }

  /** The index a read issued now must reach to see every write acknowledged so far. */
  readFloor(): number {
    return this.highestAcknowledgedIndex;
  }

  onReadServed(id: NodeId, context: string, readIndex: number, floor: number): void {
    if (readIndex < floor) {
      throw new SafetyViolation(
        'Linearizable Read',
        `read ${context} on node ${id} got read index ${readIndex}, but a write at ${floor} was acknowledged before it began`,
      );
    }
  }

  /** At the end: every acknowledged value is applied, at its index, by every node left running. */
  checkAcknowledgedKept(nodes: readonly { id: NodeId; appliedIndex: number }[]): void {
    for (const [value, index] of this.acknowledged) {
      const applied = this.applied.get(index);
      if (applied === undefined || !applied.content.endsWith(`:${value}`)) {
        throw new SafetyViolation('Durability', `acknowledged ${value} at ${index}, but ${applied?.content ?? 'nothing'} was applied there`);
      }
      for (const node of nodes) {
        if (node.appliedIndex < index) {
          throw new SafetyViolation('Durability', `node ${node.id} applied only to ${node.appliedIndex}; acknowledged ${value} is at ${index}`);
        }
      }
    }
  }

  isAcknowledged(value: string): boolean {
    return this.acknowledged.has(value);
  }

  acknowledgedCount(): number {
    return this.acknowledged.size;
  }
}
