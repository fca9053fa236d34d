/**
 * A binary min-heap (by `less`) whose items are also found by key, so that updating or deleting an
 * item is O(log n) rather than a scan (kube's backend/heap).
 */
export class KeyedHeap<T> {
  private readonly items: T[] = [];
  private readonly indexOf = new Map<string, number>();

  constructor(
    private readonly keyOf: (item: T) => string,
    /** True when `a` must come out before `b`. */
    private readonly less: (a: T, b: T) => boolean,
  ) {}

  get size(): number {
    return this.items.length;
  }

  has(key: string): boolean {
    return this.indexOf.has(key);
  }

  get(key: string): T | undefined {
    const index = this.indexOf.get(key);
    return index === undefined ? undefined : this.items[index];
  }

  /** Adds the item, or replaces the one with the same key and restores the order. */
  addOrUpdate(item: T): void {
    const key = this.keyOf(item);
    const index = this.indexOf.get(key);
    if (index !== undefined) {
      this.items[index] = item;
      this.fix(index);
      return;
    }
    this.items.push(item);
    this.indexOf.set(key, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  /** Removes the item with this key; returns it, or undefined when absent. */
  delete(key: string): T | undefined {
    const index = this.indexOf.get(key);
    if (index === undefined) return undefined;
    const removed = this.items[index]!;
    const last = this.items.pop()!;
    this.indexOf.delete(key);
    if (index < this.items.length) {
      this.items[index] = last;
      this.indexOf.set(this.keyOf(last), index);
      this.fix(index);
    }
    return removed;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.delete(this.keyOf(top));
    return top;
  }

  /** The items in no particular order. */
  list(): T[] {
    return [...this.items];
  }

  private fix(index: number): void {
    if (!this.up(index)) this.down(index);
  }

  /** Moves the item at `index` towards the root while it beats its parent; true if it moved. */
  private up(index: number): boolean {
    let at = index;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.less(this.items[at]!, this.items[parent]!)) break;
      this.swap(at, parent);
      at = parent;
    }
    return at !== index;
  }

  private down(index: number): void {
    let at = index;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= this.items.length) return;
      const right = left + 1;
      const child = right < this.items.length && this.less(this.items[right]!, this.items[left]!) ? right : left;
      if (!this.less(this.items[child]!, this.items[at]!)) return;
      this.swap(at, child);
      at = child;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    this.indexOf.set(this.keyOf(b), i);
    this.indexOf.set(this.keyOf(a), j);
  }
}
