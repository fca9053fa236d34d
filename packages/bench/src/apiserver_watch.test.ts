import { describe, expect, it } from 'vitest';
import { keepAliveHintMs } from './apiserver_http.js';
import { DeliveryLedger, SecondBuckets, writeIndexOf } from './apiserver_watch.js';
import { LineSplitter, parseWatchLine } from './apiserver_watch_stream.js';

const event = (type: string, name: string): string =>
  JSON.stringify({ type, object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name, namespace: 'ns', resourceVersion: '12', labels: { app: 'k8ts-bench' } }, data: { value: 'name' } } });

describe('watch lines', () => {
  it('give the type and the object name, the cheap way when the line starts with the type', () => {
    expect(parseWatchLine(event('ADDED', 'w-000042'))).toEqual({ type: 'ADDED', name: 'w-000042' });
    expect(parseWatchLine(event('MODIFIED', 'other'))).toEqual({ type: 'MODIFIED', name: 'other' });
  });

  it('parse other shapes as JSON, and carry an ERROR event’s Status message', () => {
    const reordered = JSON.stringify({ object: { metadata: { name: 'w-000001' } }, type: 'DELETED' });
    expect(parseWatchLine(reordered)).toEqual({ type: 'DELETED', name: 'w-000001' });
    const expired = JSON.stringify({ type: 'ERROR', object: { kind: 'Status', status: 'Failure', message: 'too old resource version: 1 (5)', reason: 'Expired', code: 410 } });
    expect(parseWatchLine(expired)).toEqual({ type: 'ERROR', name: undefined, message: 'too old resource version: 1 (5)' });
    expect(() => parseWatchLine('{"object":{}}')).toThrow(/without a type/);
    expect(() => parseWatchLine('not json')).toThrow();
  });

  it('are split across chunks, blank lines skipped', () => {
    const splitter = new LineSplitter();
    const lines: string[] = [];
    splitter.push('{"a":1}\n{"b"', (line) => lines.push(line));
    expect(lines).toEqual(['{"a":1}']);
    splitter.push(':2}\n\n{"c":3}\n', (line) => lines.push(line));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(splitter.pending).toBe('');
  });
});

describe('the delivery ledger', () => {
  it('counts each watcher × write once, finds duplicates and gaps of acknowledged writes only', () => {
    const ledger = new DeliveryLedger(2, 3);
    const acknowledged = Uint8Array.from([1, 1, 0]);
    expect(ledger.missing([0, 1], acknowledged)).toBe(4);
    expect(ledger.deliver(0, 0)).toBe(true);
    expect(ledger.deliver(0, 1)).toBe(true);
    expect(ledger.deliver(1, 0)).toBe(true);
    expect(ledger.deliver(1, 2)).toBe(true); // an unacknowledged write may still arrive
    expect(ledger.deliver(0, 0)).toBe(false);
    expect(ledger).toMatchObject({ received: 4, duplicates: 1 });
    expect(ledger.missing([0, 1], acknowledged)).toBe(1); // watcher 1 lacks write 1
    expect(ledger.missing([0], acknowledged)).toBe(0); // watcher 1 never opened: not expected
  });
});

describe('events per second', () => {
  it('buckets arrivals by whole seconds from the first write', () => {
    const buckets = new SecondBuckets(1000);
    for (const atMs of [1000, 1999, 2000, 3500, 3999.9, 4000]) buckets.add(atMs);
    expect(buckets.series()).toEqual([2, 1, 2, 1]);
  });

  it('names of this run map back to write indices; others do not', () => {
    expect(writeIndexOf('w-000042', 100)).toBe(42);
    expect(writeIndexOf('w-000100', 100)).toBeUndefined();
    expect(writeIndexOf('bench-000001', 100)).toBeUndefined();
    expect(writeIndexOf(undefined, 100)).toBeUndefined();
  });
});

describe('the Keep-Alive hint', () => {
  it('is read in seconds from the header, wherever timeout= stands', () => {
    expect(keepAliveHintMs('timeout=5')).toBe(5000);
    expect(keepAliveHintMs('max=100, timeout=90')).toBe(90_000);
    expect(keepAliveHintMs(undefined)).toBeUndefined();
    expect(keepAliveHintMs('max=100')).toBeUndefined();
  });
});
