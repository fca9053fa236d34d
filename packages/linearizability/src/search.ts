/**
 * The Wing–Gong–Lowe search for one register, with Lowe's memoization (as in Porcupine) extended
 * for operations of unknown outcome.
 *
 * Calls and returns of the operations not yet taken sit in one time-ordered doubly linked list.
 * The calls before its first return are the candidates: operations invoked before the earliest
 * pending completion, any of which may take effect next. The search takes a candidate the register
 * allows (removing its call and return from the list) and recurses; when no candidate works, the
 * operation at that first return cannot have taken effect in time, and it backtracks. The history is
 * linearizable iff every `ok` operation gets taken; `unknown` ones may be left out (they never
 * took effect) since their completion is at +∞ and never blocks.
 *
 * Memoization: a state is (definite operations taken, unknown operations taken, value). A state
 * whose definite set and value equal a visited one's, with a superset of its unknown operations
 * taken, has no future the visited one lacks (that one may simply never take the extra unknown
 * operations), so it is skipped. Without that dominance every unknown operation would double the
 * states for the rest of the history. Definite candidates are tried before unknown ones, so the
 * dominating states tend to be visited first. The number of states recorded is what `maxStates`
 * limits.
 *
 * Two more cuts follow from the same dominance. Taking an unknown operation only matters if the next
 * operation observes the value it left, so a write never comes right after one (the write would
 * erase it: the parent state, taking the write directly, dominates). And an unknown operation that
 * leaves the value as it was is never taken (the state without it dominates).
 */
import type { HistoryEntry, Value } from './history.js';
import { ILLEGAL, step } from './register.js';

interface Node {
  readonly entry: HistoryEntry;
  readonly definite: boolean;
  /** Index among definite operations, or among unknown ones. */
  readonly bit: number;
  readonly isCall: boolean;
  readonly time: number;
  /** For a call: its return. */
  match: Node | undefined;
  prev: Node | undefined;
  next: Node | undefined;
}

export type SearchOutcome =
  | { readonly kind: 'linearizable'; readonly statesExplored: number }
  | { readonly kind: 'too-large'; readonly statesExplored: number }
  | { readonly kind: 'not-linearizable'; readonly statesExplored: number; readonly deadEnd: DeadEnd };

/** Where the deepest attempt got stuck: the raw material of an explanation. */
export interface DeadEnd {
  /** The sequence of operations the furthest attempt took, in order. */
  readonly taken: readonly HistoryEntry[];
  /** How many of them have outcome ok. */
  readonly definiteTaken: number;
  readonly valueAfterTaken: Value;
  /** The operation whose completion the attempt reached without having been able to take it. */
  readonly stuck: HistoryEntry;
}

/** One level of the depth-first search: the state reached by taking `taken`. */
interface Frame {
  readonly taken: Node | undefined;
  readonly valueBefore: Value;
  readonly candidates: readonly Node[];
  /** The first pending completion: what is stuck if no candidate works. */
  readonly firstReturn: Node;
  next: number;
}

export function searchRegister(entries: readonly HistoryEntry[], initial: Value, maxStates: number): SearchOutcome {
  const { head, definiteCount } = buildList(entries);
  let mustTake = definiteCount;
  const definiteTaken = new Bitset(definiteCount);
  let unknownTaken = 0n;
  const memo = new DominanceMemo();
  const path: Node[] = [];
  const ancestors: Frame[] = [];
  let value = initial;
  let deadEnd: DeadEnd | undefined;
  if (mustTake === 0) return { kind: 'linearizable', statesExplored: 0 };
  let frame = openFrame(head, undefined, value);

  for (;;) {
    const candidate = frame.candidates[frame.next++];
    if (candidate === undefined) {
      // No candidate works here: the operation at the first return completed without effect.
      // Remember the attempt that got furthest through the answered operations, with the fewest
      // unknown ones taken on the way (they are noise in an explanation).
      const definiteTakenCount = definiteCount - mustTake;
      if (
        deadEnd === undefined ||
        definiteTakenCount > deadEnd.definiteTaken ||
        (definiteTakenCount === deadEnd.definiteTaken && path.length < deadEnd.taken.length)
      ) {
        deadEnd = {
          taken: path.map((n) => n.entry),
          definiteTaken: definiteTakenCount,
          valueAfterTaken: value,
          stuck: frame.firstReturn.entry,
        };
      }
      const undo = frame.taken;
      const parent = ancestors.pop();
      if (undo === undefined || parent === undefined) {
        return { kind: 'not-linearizable', statesExplored: memo.size, deadEnd };
      }
      unlift(undo);
      path.pop();
      if (undo.definite) {
        definiteTaken.clear(undo.bit);
        mustTake++;
      } else {
        unknownTaken &= ~(1n << BigInt(undo.bit));
      }
      value = frame.valueBefore;
      frame = parent;
      continue;
    }

    if (frame.taken?.definite === false && candidate.entry.operation.kind === 'write') continue;
    const after = step(value, candidate.entry.operation);
    if (after === ILLEGAL) continue;
    // An unknown operation that changes nothing is pointless: this state, without it, dominates.
    if (!candidate.definite && after === value) continue;
    if (candidate.definite) definiteTaken.set(candidate.bit);
    const unknownAfter = candidate.definite ? unknownTaken : unknownTaken | (1n << BigInt(candidate.bit));
    const isNew = memo.visit(definiteTaken.key() + stateKey(after), unknownAfter);
    if (!isNew) {
      if (candidate.definite) definiteTaken.clear(candidate.bit);
      continue;
    }
    if (memo.size > maxStates) return { kind: 'too-large', statesExplored: memo.size };

    lift(candidate);
    path.push(candidate);
    ancestors.push(frame);
    if (candidate.definite && --mustTake === 0) return { kind: 'linearizable', statesExplored: memo.size };
    unknownTaken = unknownAfter;
    const before = value;
    value = after;
    frame = openFrame(head, candidate, before);
  }
}

function openFrame(head: Node, taken: Node | undefined, valueBefore: Value): Frame {
  const definite: Node[] = [];
  const unknown: Node[] = [];
  let node = head.next;
  while (node !== undefined && node.isCall) {
    (node.definite ? definite : unknown).push(node);
    node = node.next;
  }
  if (node === undefined) throw new Error('linearizability: no pending completion in a state with operations left to take');
  return { taken, valueBefore, candidates: [...definite, ...unknown], firstReturn: node, next: 0 };
}

function buildList(entries: readonly HistoryEntry[]): { head: Node; definiteCount: number } {
  const nodes: Node[] = [];
  let definiteCount = 0;
  let unknownCount = 0;
  entries.forEach((entry) => {
    const { operation } = entry;
    const definite = operation.outcome !== 'unknown';
    const bit = definite ? definiteCount++ : unknownCount++;
    const completedAt = definite ? (operation.completedAt ?? Infinity) : Infinity;
    const ret: Node = { entry, definite, bit, isCall: false, time: completedAt, match: undefined, prev: undefined, next: undefined };
    const call: Node = { entry, definite, bit, isCall: true, time: operation.invokedAt, match: ret, prev: undefined, next: undefined };
    nodes.push(call, ret);
  });
  // Calls before returns at equal times: operations that merely touch count as concurrent, so
  // only strict precedence (completedAt < invokedAt) orders two operations.
  nodes.sort(
    (a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.entry.index - b.entry.index,
  );
  const head: Node = {
    entry: { index: -1, operation: { kind: 'read', client: '', key: '', invokedAt: 0, outcome: 'fail' } },
    definite: false,
    bit: -1,
    isCall: false,
    time: -Infinity,
    match: undefined,
    prev: undefined,
    next: undefined,
  };
  let last = head;
  for (const node of nodes) {
    last.next = node;
    node.prev = last;
    last = node;
  }
  return { head, definiteCount };
}

/** Takes an operation out of the list: its call and its return. */
function lift(call: Node): void {
  const ret = call.match;
  if (call.prev === undefined || ret === undefined || ret.prev === undefined) {
    throw new Error('linearizability: lifting a node that is not linked');
  }
  call.prev.next = call.next;
  if (call.next) call.next.prev = call.prev;
  ret.prev.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Puts an operation back exactly where `lift` took it from (the list is restored in LIFO order). */
function unlift(call: Node): void {
  const ret = call.match;
  if (call.prev === undefined || ret === undefined || ret.prev === undefined) {
    throw new Error('linearizability: unlifting a node that was never linked');
  }
  ret.prev.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev.next = call;
  if (call.next) call.next.prev = call;
}

function stateKey(value: Value): string {
  return value === null ? '!' : `=${value}`;
}

/** Visited states, grouped by (definite set, value), each group a list of unknown-taken sets. */
class DominanceMemo {
  private readonly groups = new Map<string, bigint[]>();
  size = 0;

  /** Records the state and returns true, unless a visited state dominates it (see the file comment). */
  visit(definiteAndValue: string, unknownTaken: bigint): boolean {
    let group = this.groups.get(definiteAndValue);
    if (group === undefined) {
      group = [];
      this.groups.set(definiteAndValue, group);
    }
    for (const seen of group) {
      if ((seen & ~unknownTaken) === 0n) return false;
    }
    group.push(unknownTaken);
    this.size++;
    return true;
  }
}

/** The set of taken definite operations, with a compact string form for the memo. */
class Bitset {
  private readonly words: Uint16Array;

  constructor(size: number) {
    this.words = new Uint16Array(Math.ceil(size / 16));
  }

  set(bit: number): void {
    this.words[bit >>> 4]! |= 1 << (bit & 15);
  }

  clear(bit: number): void {
    this.words[bit >>> 4]! &= ~(1 << (bit & 15));
  }

  /** One UTF-16 code unit per 16 operations; fixed length, so a value can follow it unambiguously. */
  key(): string {
    let out = '';
    for (let start = 0; start < this.words.length; start += 4096) {
      out += String.fromCharCode(...this.words.subarray(start, start + 4096));
    }
    return out;
  }
}
