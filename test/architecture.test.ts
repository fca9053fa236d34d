import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = resolve(new URL('..', import.meta.url).pathname);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative imports of each file, resolved to files (`./x.js` → `x.ts`). */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g)]
      .map((match) => resolve(dirname(file), (match[1] ?? '').replace(/\.js$/, '.ts')))
      .filter((target) => files.includes(target));
    graph.set(file, targets);
  }
  return graph;
}

/** One import cycle, as a list of files, or undefined. */
export function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('package boundaries', () => {
  const packages = ['packages', 'services']
    .map((dir) => join(root, dir))
    .flatMap((dir) => readdirSync(dir).map((name) => join(dir, name)))
    .filter((dir) => statSync(dir).isDirectory());

  test('no circular imports inside any package', () => {
    for (const dir of packages) {
      const cycle = findCycle(importGraph(sourceFiles(dir)));
      expect(cycle?.map((file) => relative(root, file)), `import cycle in ${relative(root, dir)}`).toBeUndefined();
    }
  });

  test('the cycle finder finds a cycle', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
    ]);
    expect(findCycle(graph)).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['b']], ['b', []]]))).toBeUndefined();
  });

  test('packages import each other only through their public entry points', () => {
    for (const file of packages.flatMap(sourceFiles)) {
      const text = readFileSync(file, 'utf8');
      const deep = [...text.matchAll(/from\s+['"](@k8ts\/[^/'"]+\/[^'"]+)['"]/g)]
        .map((match) => match[1] ?? '')
        .filter((specifier) => specifier !== '@k8ts/raft/sim');
      expect(deep, relative(root, file)).toEqual([]);
    }
  });
});
