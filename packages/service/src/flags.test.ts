import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { describe, expect, test } from 'vitest';
import { addComponentFlags } from './component_flags.js';
import { numberFlag, parseDuration, portFlag, splitList } from './flags.js';

describe('flags as kube takes them', () => {
  test('Go durations', () => {
    expect(parseDuration('15s')).toBe(15_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('0.5s')).toBe(500);
  });
  test('a bad duration is refused, naming it', () => {
    expect(() => parseDuration('15')).toThrow('invalid duration "15"');
    expect(() => parseDuration('')).toThrow('invalid duration ""');
    expect(() => parseDuration('1x')).toThrow('invalid duration "1x"');
  });
  test('ports and numbers are checked', () => {
    expect(portFlag('--port')('0')).toBe(0);
    expect(() => portFlag('--port')('70000')).toThrow('--port must be a port number');
    expect(numberFlag('--rate', { min: 0 })('0.1')).toBe(0.1);
    expect(() => numberFlag('--rate', { min: 0 })('-1')).toThrow('--rate takes a number ≥ 0, got -1');
    expect(() => numberFlag('--n', { integer: true })('1.5')).toThrow('--n takes a whole number');
  });
  test('lists split on commas, blanks dropped', () => {
    expect(splitList(' a:1, b:2 ,,')).toEqual(['a:1', 'b:2']);
    expect(splitList('')).toEqual([]);
  });
});

describe("a component's common flags", () => {
  const parse = (argv: string[], env: Record<string, string> = {}): Record<string, unknown> => {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      return addComponentFlags(new Command('c').exitOverride().configureOutput({ outputError: () => undefined }), 10251)
        .parse(argv, { from: 'user' })
        .opts();
    } finally {
      for (const key of Object.keys(env)) if (saved[key] === undefined) delete process.env[key];
    }
  };
  test('defaults, and the K8TS_* variables as a second way in', () => {
    expect(parse(['--master', 'a:1'])).toEqual({ master: 'a:1', bindAddress: '0.0.0.0', port: 10251, logLevel: 'info' });
    expect(parse([], { K8TS_APISERVERS: 'b:2', K8TS_PORT: '0' })).toMatchObject({ master: 'b:2', port: 0 });
  });
  test('--master is required and --port checked', () => {
    expect(() => parse([])).toThrow("required option '--master <addresses>' not specified");
    expect(() => parse(['--master', 'a:1', '--port', 'x'])).toThrow('--port must be a port number');
  });
});

/** A real process: parseFlagsOrExit and exitWithUsageError end it, so they are run in one. */
function runScript(body: string, args: string[] = []): { status: number | null; stderr: string; stdout: string } {
  const entry = new URL('../dist/index.js', import.meta.url).href;
  const script = `import { Command } from 'commander';\nimport * as service from ${JSON.stringify(entry)};\n${body}`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script, '--', ...args], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

describe('flag errors end the process as Go programs do', () => {
  const program = `service.parseFlagsOrExit(new Command('k8ts-x').requiredOption('--need <v>'), process.argv.slice(1)); // node -e: no script path in argv console.log('parsed');`;
  test('a bad flag: one line naming the program, exit 2', () => {
    const result = runScript(program, ['--need', 'v', '--bogus']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("k8ts-x: error: unknown option '--bogus'\n");
  });
  test('--help: exit 0', () => {
    const result = runScript(program, ['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: k8ts-x');
  });
  test('a value refused after parsing: exitWithUsageError, exit 2', () => {
    const result = runScript(`service.exitWithUsageError('k8ts-x', new Error('--config: no such file'));`);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('k8ts-x: --config: no such file\n');
  });
  test('runMain: an escaped error exits 1, with its stack or, asked, its message alone', () => {
    const withStack = runScript(`service.runMain('k8ts-x', async () => { throw new Error('boom'); });`);
    expect(withStack.status).toBe(1);
    expect(withStack.stderr).toMatch(/^k8ts-x: Error: boom\n\s+at /);
    const bare = runScript(`service.runMain('k8ts-x', async () => { throw new Error('boom'); }, { stack: false });`);
    expect(bare.status).toBe(1);
    expect(bare.stderr).toBe('k8ts-x: boom\n');
  });
});
