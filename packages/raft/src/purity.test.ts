import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

/** The Raft core is pure: time, randomness and I/O enter only through its API. */
const FORBIDDEN: [RegExp, string][] = [
  [/from\s+['"]node:/, 'a node: import'],
  [/from\s+['"](fs|net|dgram|child_process|timers|worker_threads|os|http|https)['"]/, 'a Node built-in import'],
  [/\brequire\s*\(/, 'require()'],
  [/\bimport\s*\(/, 'a dynamic import'],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, 'a timer'],
  [/\bqueueMicrotask\s*\(/, 'a microtask'],
  [/\bMath\.random\b/, 'Math.random'],
  [/\bDate\.now\b|\bnew Date\b|\bperformance\.now\b/, 'a clock'],
  [/\bprocess\./, 'process'],
  [/\bcrypto\./, 'crypto'],
];

const sourceDir = new URL('.', import.meta.url).pathname;
const sources = readdirSync(sourceDir).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));

describe('packages/raft/src has no I/O, timers, clock or randomness of its own', () => {
  test('there are sources to check', () => {
    expect(sources).toContain('raft.ts');
  });
  for (const name of sources) {
    test(name, () => {
      const text = readFileSync(join(sourceDir, name), 'utf8');
      const found = FORBIDDEN.filter(([pattern]) => pattern.test(text)).map(([, what]) => what);
      expect(found).toEqual([]);
    });
  }
  test('the check itself objects to a forbidden line', () => {
    const line = "import { readFileSync } from 'node:fs'; setTimeout(() => Math.random(), 1);";
    expect(FORBIDDEN.filter(([pattern]) => pattern.test(line)).length).toBeGreaterThanOrEqual(3);
  });
});
