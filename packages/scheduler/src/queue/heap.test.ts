import { describe, expect, it } from 'vitest';
import { KeyedHeap } from './heap.js';

interface Item {
  key: string;
  value: number;
}

function heap(): KeyedHeap<Item> {
  return new KeyedHeap<Item>(
    (item) => item.key,
    (a, b) => a.value < b.value,
  );
}

function drain(h: KeyedHeap<Item>): number[] {
  const out: number[] = [];
  for (let item = h.pop(); item !== undefined; item = h.pop()) out.push(item.value);
  return out;
}

describe('KeyedHeap', () => {
  it('pops in order', () => {
    const h = heap();
    for (const value of [5, 3, 9, 1, 7]) h.addOrUpdate({ key: `k${value}`, value });
    expect(drain(h)).toEqual([1, 3, 5, 7, 9]);
  });

  it('updates an item in place by key, reordering it', () => {
    const h = heap();
    for (const value of [1, 2, 3]) h.addOrUpdate({ key: `k${value}`, value });
    h.addOrUpdate({ key: 'k1', value: 10 });
    expect(h.size).toBe(3);
    expect(drain(h)).toEqual([2, 3, 10]);
  });

  it('deletes by key from the middle', () => {
    const h = heap();
    for (const value of [4, 1, 3, 2, 5]) h.addOrUpdate({ key: `k${value}`, value });
    expect(h.delete('k3')?.value).toBe(3);
    expect(h.delete('missing')).toBeUndefined();
    expect(h.has('k3')).toBe(false);
    expect(drain(h)).toEqual([1, 2, 4, 5]);
  });

  it('matches a sorted list under random adds, updates and deletes', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const h = heap();
    const reference = new Map<string, number>();
    for (let step = 0; step < 2000; step++) {
      const key = `k${random(100)}`;
      if (random(4) === 0) {
        h.delete(key);
        reference.delete(key);
      } else {
        const value = random(1000);
        h.addOrUpdate({ key, value });
        reference.set(key, value);
      }
    }
    expect(drain(h)).toEqual([...reference.values()].sort((a, b) => a - b));
  });
});
