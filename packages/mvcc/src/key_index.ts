import btree from 'sorted-btree';
import { KeyHistory } from './key_history.js';
import type { KeySpan } from './key_span.js';

// sorted-btree is CommonJS: Node's ESM loader binds module.exports to the default import, the class
// being its .default; bundling loaders such as vitest's bind the class itself.
type BTreeClass = typeof btree.default;
const BTree: BTreeClass = (btree as unknown as { default?: BTreeClass }).default ?? (btree as unknown as BTreeClass);

/** Every key the store holds (live, deleted-but-not-compacted), in bytewise order. */
export class KeyIndex {
  private readonly tree = new BTree<string, KeyHistory>();

  get size(): number {
    return this.tree.size;
  }

  get(keyString: string): KeyHistory | undefined {
    return this.tree.get(keyString);
  }

  /** The key's history, created empty on first write. */
  ensure(key: Uint8Array, keyString: string): KeyHistory {
    let history = this.tree.get(keyString);
    if (history === undefined) {
      history = new KeyHistory(key, keyString);
      this.tree.set(keyString, history);
    }
    return history;
  }

  delete(keyString: string): void {
    this.tree.delete(keyString);
  }

  /** Visits the histories of the keys in `span`, ascending. */
  forEachIn(span: KeySpan, visit: (history: KeyHistory) => void): void {
    switch (span.kind) {
      case 'single': {
        const h = this.tree.get(span.key);
        if (h !== undefined) visit(h);
        return;
      }
      case 'range':
        if (span.end > span.key) this.tree.forRange(span.key, span.end, false, (_k, h) => visit(h));
        return;
      case 'from':
        for (const [, h] of this.tree.entries(span.key)) visit(h);
        return;
    }
  }

  /** Every history, ascending. Safe against deletion of the visited key. */
  forEach(visit: (history: KeyHistory) => void): void {
    for (const h of this.values()) visit(h);
  }

  /** Every history, ascending, in a new array. */
  values(): KeyHistory[] {
    return this.tree.valuesArray();
  }

  /**
   * The histories the index holds now, ascending, unaffected by later writes to the index: a lazy
   * copy (the B-tree's copy-on-write clone) made in constant time; later writes copy the nodes they
   * touch once.
   */
  frozen(): { readonly size: number; readonly histories: Iterator<KeyHistory> } {
    const copy = this.tree.clone();
    return { size: copy.size, histories: copy.values() };
  }
}
