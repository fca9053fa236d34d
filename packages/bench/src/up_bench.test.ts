import { describe, expect, test } from 'vitest';
import { clusterProcesses, partKind, spread, upTargets } from './up_bench.js';

describe('clusterProcesses', () => {
  test("the state file's processes, their descendants and the pods' processes, each under its kind; nothing else", () => {
    const table = new Map([
      [1, { parent: 0, cmdline: '/sbin/init' }],
      [100, { parent: 1, cmdline: 'k8ts-store --name store-1' }],
      [200, { parent: 1, cmdline: 'k8ts-node-agent --root-dir /c/nodes/node-1' }],
      [201, { parent: 200, cmdline: 'ip -json link show' }],
      [300, { parent: 1, cmdline: 'shim /c/nodes/node-1/pods/default_hello/c' }],
      [301, { parent: 300, cmdline: 'sh -c echo hello' }],
      [400, { parent: 1, cmdline: 'k8ts-store --name store-1 /other/nodes/x' }],
      [500, { parent: 1, cmdline: 'bash' }],
    ]);
    const kinds = clusterProcesses([{ name: 'store-1', pid: 100 }, { name: 'node-1', pid: 200 }, { name: 'store-2', pid: 999 }], '/c/nodes/', table);
    expect(Object.fromEntries(kinds)).toEqual({ 100: 'store', 200: 'node', 201: 'node', 300: 'pods', 301: 'pods' });
  });

  test('part names sum under their kind', () => {
    expect(['store-3', 'controller-manager-2', 'nats-server', 'simulated-nodes'].map(partKind)).toEqual(['store', 'controller-manager', 'nats-server', 'simulated-nodes']);
  });
});

describe('upTargets', () => {
  const conditions = (nodes: number) => ({ options: { runs: 3, nodes, idleSeconds: 30, basePort: 31300, storeReference: false } }) as never;

  test('judged by the median, for the 3-node cluster the targets are about', () => {
    const checks = upTargets({ conditions: conditions(3), upSeconds: spread([8, 12, 9])!, listedRssMiB: spread([700, 850, 770])!, listedCpuPercent: spread([4])! });
    expect(checks.map((check) => check.met)).toEqual([true, false, false]);
    expect(checks[0]?.measured).toBe('median 9.00 s (worst 12.0)');
    expect(checks[1]?.target).toBe('idle store, apiservers, schedulers, controller managers, nodes ≤ 800 MB RSS (763 MiB)');
    expect(checks[1]?.measured).toBe('median 770 MiB (worst 850)');
  });

  test('another shape is not measured against them', () => {
    expect(upTargets({ conditions: conditions(1), upSeconds: spread([2])!, listedRssMiB: spread([300])!, listedCpuPercent: spread([1])! }).map((check) => check.met)).toEqual(['not measured', 'not measured', 'not measured']);
  });
});
