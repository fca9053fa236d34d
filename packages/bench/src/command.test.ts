import { describe, expect, it } from 'vitest';
import { optionsFrom, storeBenchCommand } from './command.js';
import { checkOptions, DEFAULT_OPTIONS } from './options.js';

function parse(argv: string[]): Record<string, unknown> {
  const command = storeBenchCommand().exitOverride().action(() => undefined);
  command.parse(argv, { from: 'user' });
  return command.opts();
}

describe('k8ts bench store flags', () => {
  it('default to DEFAULT_OPTIONS', () => {
    expect(optionsFrom(parse(['--vs-etcd']))).toEqual({ ...DEFAULT_OPTIONS, tests: [...DEFAULT_OPTIONS.tests] });
  });

  it('take etcd benchmark-style names', () => {
    const options = optionsFrom(parse(['--endpoints', '127.0.0.1:2379', '--clients', '1000', '--conns', '100', '--key-size', '16', '--val-size', '1024', '--sequential-keys', '--tests', 'put-concurrent,watch', '--target', 'leader']));
    expect(options).toMatchObject({ clients: 1000, conns: 100, keySizeBytes: 16, valueSizeBytes: 1024, sequentialKeys: true, tests: ['put-concurrent', 'watch'], target: 'leader' });
  });

  it('are checked together before anything runs', () => {
    expect(() => checkOptions(optionsFrom(parse(['--watchers', '10', '--watch-streams', '11'])))).toThrow(/--watch-streams 11 exceeds --watchers 10/);
    expect(() => checkOptions(optionsFrom(parse(['--watchers', '100000', '--watch-puts', '1000'])))).toThrow(/exceeds/);
    expect(() => checkOptions(optionsFrom(parse(['--conns', '0'])))).toThrow(/--conns 0/);
  });

  it('refuse unknown tests and non-integers', () => {
    expect(() => parse(['--tests', 'put,range'])).toThrow(/unknown test put/);
    expect(() => parse(['--clients', '1.5'])).toThrow(/integer/);
  });
});
