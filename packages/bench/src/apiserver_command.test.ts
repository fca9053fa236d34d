import { describe, expect, it } from 'vitest';
import { parseParentPid } from './processes.js';
import { apiOptionsFrom, apiserverBenchCommand } from './apiserver_command.js';
import { checkApiOptions, DEFAULT_API_OPTIONS } from './apiserver_options.js';
import { checkTargets } from './apiserver_report.js';
import { hasApiTrouble, type ApiServerBenchReport, type ApiTestResult, type WatchFigures } from './apiserver_results.js';
import { summarizeLatencies } from './stats.js';

function parse(argv: string[]): Record<string, unknown> {
  const command = apiserverBenchCommand().exitOverride().action(() => undefined);
  command.parse(argv, { from: 'user' });
  return command.opts();
}

describe('k8ts bench apiserver flags', () => {
  it('default to the issue’s shape: 200/s for 20 s, 100 watchers', () => {
    const options = apiOptionsFrom(parse([]));
    expect(options).toEqual({ ...DEFAULT_API_OPTIONS, tests: [...DEFAULT_API_OPTIONS.tests] });
    expect(options).toMatchObject({ ratePerSecond: 200, durationSeconds: 20, watchers: 100 });
    expect(() => checkApiOptions(options)).not.toThrow();
  });

  it('are checked together before anything runs', () => {
    expect(() => checkApiOptions(apiOptionsFrom(parse(['--rate', '0'])))).toThrow(/--rate 0/);
    expect(() => checkApiOptions(apiOptionsFrom(parse(['--watchers', '100000', '--watch-writes', '1000'])))).toThrow(/exceeds/);
    expect(() => checkApiOptions(apiOptionsFrom(parse(['--tests', 'get,update'])))).toThrow(/must include create/);
    expect(apiOptionsFrom(parse(['--tests', 'create,watch', '--duration', '10'])).tests).toEqual(['create', 'watch']);
  });

  it('refuse unknown tests and non-integers', () => {
    expect(() => parse(['--tests', 'create,delete'])).toThrow(/unknown test delete/);
    expect(() => parse(['--rate', '2.5'])).toThrow(/integer/);
  });
});

const result = (name: ApiTestResult['name'], overrides: Partial<ApiTestResult>): ApiTestResult => ({
  name,
  description: '',
  unit: name === 'watch' ? 'events' : 'requests',
  ratePerSecond: 200,
  scheduled: 4000,
  sent: 4000,
  completed: 4000,
  failed: 0,
  errors: {},
  elapsedMs: 20_000,
  perSecond: 200,
  latency: summarizeLatencies([5, 10, 50]),
  serviceLatency: summarizeLatencies([5, 10, 50]),
  maxSendLagMs: 0,
  inFlightWaits: 0,
  stoppedBy: 'schedule',
  ...overrides,
});

const watchFigures = (watchers: number): WatchFigures => ({
  watchers,
  watchersOpened: watchers,
  writes: 1,
  writesAcknowledged: 1,
  writesPerSecond: 1,
  writeLatency: summarizeLatencies([1]),
  eventsExpected: watchers,
  eventsReceived: watchers,
  eventsMissing: 0,
  eventsUnexpected: 0,
  watchesEnded: 0,
  eventsPerSecondSeries: [],
  setupMs: 1,
});

describe('targets', () => {
  it('judge mutations by p99 at 200/s and watch by events per second', () => {
    const checks = checkTargets([
      result('create', {}),
      result('get', { latency: summarizeLatencies([500]) }), // reads have no target
      result('update', { latency: summarizeLatencies([20, 150]) }),
      result('watch', { perSecond: 9_999, watch: watchFigures(100) }),
    ]);
    expect(checks.map((check) => [check.target.split(':')[0], check.met])).toEqual([
      ['create', true],
      ['update', false],
      ['watch', false],
    ]);
  });

  it('are not measured below the target rate, and a failed request misses them', () => {
    const [slow, failing, fewWatchers, enough] = checkTargets([
      result('create', { ratePerSecond: 50 }),
      result('update', { failed: 1 }),
      result('watch', { perSecond: 2000, watch: watchFigures(10) }), // 10 watchers × 200/s can never reach 10,000/s
      result('watch', { perSecond: 10_500, watch: watchFigures(100) }),
    ]);
    expect(slow?.met).toBe('not measured');
    expect(failing?.met).toBe(false);
    expect(fewWatchers?.met).toBe('not measured');
    expect(enough?.met).toBe(true);
  });

  it('never make trouble; failures and missing events do', () => {
    const report = (tests: ApiTestResult[]): ApiServerBenchReport => ({
      conditions: {} as ApiServerBenchReport['conditions'],
      target: { server: 'http://127.0.0.1:1', namespace: 'n' },
      warmup: { requests: 0, failed: 0, errors: {} },
      tests,
      targets: checkTargets(tests),
      problems: [],
    });
    expect(hasApiTrouble(report([result('create', { latency: summarizeLatencies([5000]) })]))).toBe(false);
    expect(hasApiTrouble(report([result('create', { failed: 1 })]))).toBe(true);
    expect(hasApiTrouble(report([result('watch', { watch: watchFigures(100) })]))).toBe(false);
    expect(hasApiTrouble(report([result('watch', { watch: { ...watchFigures(100), eventsReceived: 0, eventsMissing: 1 } })]))).toBe(true);
  });
});

describe('/proc parsing', () => {
  it('reads the parent pid after a command name with spaces and parentheses', () => {
    expect(parseParentPid('4242 (node (k8ts) x) S 17 4242 4242 0 -1 4194560 1 0 0 0 12 3 0 0 20 0')).toBe(17);
  });
});
