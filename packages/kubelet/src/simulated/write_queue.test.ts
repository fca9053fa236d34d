import { describe, expect, it } from 'vitest';
import { WriteQueue } from './write_queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('WriteQueue', () => {
  it('runs at most `concurrency` writes at once, in arrival order', async () => {
    const queue = new WriteQueue({ concurrency: 2 });
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    for (const key of ['a', 'b', 'c', 'd']) {
      gates.set(key, deferred());
      queue.enqueue(key, async () => {
        started.push(key);
        await gates.get(key)?.promise;
      });
    }
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toEqual(['a', 'b']);
    expect([queue.inFlight, queue.pending]).toEqual([2, 2]);
    gates.get('b')?.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a', 'b', 'c']);
    for (const gate of gates.values()) gate.resolve();
    await queue.idle();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps one waiting write per key (the newest), and never runs two writes of a key at once', async () => {
    const queue = new WriteQueue({ concurrency: 4 });
    const ran: string[] = [];
    const gate = deferred();
    queue.enqueue('pod', async () => {
      ran.push('first');
      await gate.promise;
    });
    await new Promise((resolve) => setImmediate(resolve));
    queue.enqueue('pod', async () => void ran.push('second'));
    queue.enqueue('pod', async () => void ran.push('third'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual(['first']); // the key's next write waits for the one in flight
    gate.resolve();
    await queue.idle();
    expect(ran).toEqual(['first', 'third']);
  });

  it('drops a cancelled write and reports a write that throws', async () => {
    const errors: string[] = [];
    const queue = new WriteQueue({ concurrency: 1, onError: (key) => errors.push(key) });
    const gate = deferred();
    queue.enqueue('busy', () => gate.promise);
    queue.enqueue('gone', async () => void errors.push('ran'));
    queue.enqueue('bad', () => Promise.reject(new Error('boom')));
    queue.cancel('gone');
    gate.resolve();
    await queue.idle();
    expect(errors).toEqual(['bad']);
  });
});
