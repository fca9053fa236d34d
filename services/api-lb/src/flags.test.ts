import { describe, expect, test } from 'vitest';
import { apiLbCommand, apiLbFlags, parseBackend, type ApiLbFlags } from './flags.js';

function parse(argv: string[]): ApiLbFlags {
  const program = apiLbCommand().exitOverride().configureOutput({ outputError: () => undefined });
  program.parse(argv, { from: 'user' });
  return apiLbFlags(program.opts<Record<string, unknown>>());
}

describe('k8ts-api-lb flags', () => {
  test('defaults: port 6443, /readyz every 2 s with the interval as timeout, fall 3, rise 2', () => {
    expect(parse(['--backends', '10.0.0.1:8080, 10.0.0.2:8080'])).toEqual({
      bindAddress: '0.0.0.0',
      port: 6443,
      backends: [
        { host: '10.0.0.1', port: 8080 },
        { host: '10.0.0.2', port: 8080 },
      ],
      healthPath: '/readyz',
      healthIntervalMs: 2_000,
      healthFailureThreshold: 3,
      healthSuccessThreshold: 2,
      healthzPort: 8404,
      maxConnections: 10_000,
      connectTimeoutMs: 5_000,
      idleTimeoutMs: 0,
      logLevel: 'info',
    });
  });

  test('durations and thresholds as given', () => {
    const flags = parse(['--backends', 'a:1', '--health-interval', '500ms', '--health-timeout', '1s', '--health-failure-threshold', '1', '--health-success-threshold', '4', '--health-path', '/healthz', '--port', '7443']);
    expect(flags).toMatchObject({ healthIntervalMs: 500, healthTimeoutMs: 1_000, healthFailureThreshold: 1, healthSuccessThreshold: 4, healthPath: '/healthz', port: 7443 });
  });

  test('backends: host:port and [ipv6]:port; anything else is refused, naming the flag', () => {
    expect(parseBackend('[::1]:6443')).toEqual({ host: '::1', port: 6443 });
    expect(parseBackend('apiserver-1:8080')).toEqual({ host: 'apiserver-1', port: 8080 });
    for (const bad of ['apiserver-1', ':8080', 'a:0', 'a:65536', '::1:6443', 'a:b']) {
      expect(() => parseBackend(bad), bad).toThrow(/--backends takes host:port/);
    }
  });

  test('bad values are refused: no backends, a zero interval, a threshold of 0, a relative path', () => {
    expect(() => parse([])).toThrow(/--backends/);
    expect(() => parse(['--backends', ' , '])).toThrow(/at least one/);
    expect(() => parse(['--backends', 'a:1', '--health-interval', '0s'])).toThrow(/--health-interval must be longer than 0/);
    expect(() => parse(['--backends', 'a:1', '--health-failure-threshold', '0'])).toThrow(/--health-failure-threshold takes a whole number ≥ 1/);
    expect(() => parse(['--backends', 'a:1', '--health-path', 'readyz'])).toThrow(/--health-path must start with \//);
  });
});
