import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

/** The store is replicated: the same commands must give the same state on every member. */
const RULES: Array<[RegExp, string]> = [
  // node:zlib only for its crc32, a pure function (crc32.ts).
  [/from\s+['"]node:(?!zlib['"])/, 'a node: import'],
  [/from\s+['"](fs|net|dgram|timers|crypto)(\/[a-z]+)?['"]/, 'an I/O or timer import'],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, 'a timer'],
  [/\bMath\.random\b/, 'Math.random'],
  [/\bDate\.now\b|\bnew Date\b|\bperformance\.now\b/, 'a clock'],
  [/\bprocess\./, 'process'],
  [/\bcrypto\./, 'crypto'],
  [/\brequire\s*\(|\bimport\s*\(/, 'a dynamic import'],
];

const sourceDir = new URL('.', import.meta.url).pathname;
const sources = readdirSync(sourceDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'test_support.ts');
const violations = (text: string): string[] => RULES.filter(([pattern]) => pattern.test(text)).map(([, what]) => what);

describe('packages/mvcc: no I/O, clock or randomness', () => {
  test('there are sources to check', () => {
    expect(sources).toContain('mvcc_store.ts');
  });
  for (const file of sources) test(file, () => expect(violations(readFileSync(join(sourceDir, file), 'utf8'))).toEqual([]));
  test('the rules object to forbidden lines', () => {
    expect(violations("import { readFileSync } from 'node:fs'; setTimeout(() => Math.random(), 1); Date.now();")).toHaveLength(4);
  });
});
