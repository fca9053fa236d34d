import { afterEach, describe, expect, it, vi } from 'vitest';
import { proxyBenchCommand, proxyOptionsFrom } from './proxy_command.js';
import { checkProxyOptions } from './proxy_bench.js';
import { DEFAULT_PROXY_OPTIONS, renderProxyReport, summarize, type ProxyBenchReport } from './proxy_report.js';

function parse(argv: string[]): Record<string, unknown> {
  const command = proxyBenchCommand().exitOverride().action(() => undefined);
  command.parse(argv, { from: 'user' });
  return command.opts();
}

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

describe('k8ts bench proxy flags', () => {
  it('default to 3 runs with their spread, and take positive integers only', () => {
    expect(proxyOptionsFrom(parse([]))).toEqual(DEFAULT_PROXY_OPTIONS);
    expect(proxyOptionsFrom(parse(['--runs', '5', '--megabytes', '8']))).toMatchObject({ runs: 5, megabytes: 8 });
    expect(() => parse(['--runs', '0'])).toThrow(/positive integer/);
    expect(() => parse(['--duration', '1.5'])).toThrow(/positive integer/);
    expect(() => checkProxyOptions({ ...DEFAULT_PROXY_OPTIONS, requests: 0 })).toThrow(/--requests 0/);
  });

  it('summarize each figure over the runs: mean, min–max, and what the proxy adds', () => {
    const path = (connectionsPerSecond: number, latencyP50Ms: number) => ({ connectionsPerSecond, connectionErrors: 0, latencyP50Ms, latencyP99Ms: 2 * latencyP50Ms, throughputMiBPerSecond: 100 });
    const summary = summarize([
      { run: 1, direct: path(1000, 0.1), proxied: path(500, 0.3) },
      { run: 2, direct: path(2000, 0.1), proxied: path(500, 0.2) },
    ]);
    const connections = summary.find((row) => row.figure === 'connectionsPerSecond');
    expect(connections).toMatchObject({ direct: { mean: 1500, min: 1000, max: 2000 }, ratio: { min: 0.25, max: 0.5 } });
    const p50 = summary.find((row) => row.figure === 'latencyP50Ms');
    expect(p50?.added.mean).toBeCloseTo(0.15);
  });
});

describe('k8ts bench proxy', () => {
  it('runs briefly end to end: a backend and a proxy process, figures for both paths, the conditions', async () => {
    let output = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output += chunk.toString();
      return true;
    });
    const argv = ['--runs', '1', '--duration', '1', '--concurrency', '2', '--requests', '50', '--megabytes', '2', '--json', '--log-level', 'silent'];
    await proxyBenchCommand().exitOverride().parseAsync(argv, { from: 'user' });
    const report = JSON.parse(output) as ProxyBenchReport;
    expect(process.exitCode).toBe(0);
    expect(report.problems).toEqual([]);
    expect(report.conditions).toMatchObject({ cpuCores: expect.any(Number), nodeVersion: process.version, options: { runs: 1, megabytes: 2 } });
    expect(report.runs).toHaveLength(1);
    for (const path of [report.runs[0]!.direct, report.runs[0]!.proxied]) {
      expect(path.connectionsPerSecond).toBeGreaterThan(0);
      expect(path.connectionErrors).toBe(0);
      expect(path.latencyP99Ms).toBeGreaterThanOrEqual(path.latencyP50Ms);
      expect(path.throughputMiBPerSecond).toBeGreaterThan(0);
    }
    const text = renderProxyReport(report);
    expect(text).toMatch(/machine: .*cores.*load average.*node v/);
    expect(text).toMatch(/connections\/s/);
    expect(text).toMatch(/request p99 ms/);
  });
});
