import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

type Rule = [RegExp, string];

/** Nowhere in the package, simulator included: files, sockets, timers, unseeded randomness. */
const PACKAGE_RULES: Rule[] = [
  [/from\s+['"](node:)?(fs|fs\/promises|net|dgram|timers|timers\/promises)['"]/, 'a file, socket or timer import'],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, 'a timer'],
  [/\bMath\.random\b/, 'Math.random'],
];

/** The core is pure: time, randomness and I/O enter only through its API. */
const CORE_RULES: Rule[] = [
  ...PACKAGE_RULES,
  [/from\s+['"]node:/, 'a node: import'],
  [/\brequire\s*\(/, 'require()'],
  [/\bimport\s*\(/, 'a dynamic import'],
  [/\bqueueMicrotask\s*\(/, 'a microtask'],
  [/\bDate\.now\b|\bnew Date\b|\bperformance\.now\b/, 'a clock'],
  [/\bprocess\./, 'process'],
  [/\bcrypto\./, 'crypto'],
];

const packageDir = new URL('..', import.meta.url).pathname;
const sourcesIn = (dir: string): string[] =>
  readdirSync(join(packageDir, dir))
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => join(dir, name));
const violations = (file: string, rules: Rule[]): string[] => {
  const text = readFileSync(join(packageDir, file), 'utf8');
  return rules.filter(([pattern]) => pattern.test(text)).map(([, what]) => what);
};

describe('packages/raft: no I/O, timers, clock or randomness of its own', () => {
  const core = sourcesIn('src');
  // The driver takes time from an injected Clock and I/O from the interfaces it is given.
  const rest = [...sourcesIn('driver'), ...sourcesIn('sim'), 'index.ts'];

  test('there are sources to check', () => {
    expect(core).toContain(join('src', 'raft.ts'));
    expect(rest).toContain(join('sim', 'simulation.ts'));
    expect(rest).toContain(join('driver', 'raft_node.ts'));
  });
  for (const file of core) test(file, () => expect(violations(file, CORE_RULES)).toEqual([]));
  for (const file of rest) test(file, () => expect(violations(file, PACKAGE_RULES)).toEqual([]));

  test('the rules object to forbidden lines', () => {
    const line = "import { readFileSync } from 'node:fs'; setTimeout(() => Math.random(), 1); Date.now();";
    expect(CORE_RULES.filter(([pattern]) => pattern.test(line)).length).toBeGreaterThanOrEqual(5);
    expect(PACKAGE_RULES.filter(([pattern]) => pattern.test("import net from 'net';")).length).toBe(1);
  });
});
