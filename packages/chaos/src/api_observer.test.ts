import { describe, expect, test } from 'vitest';
import { TAINT_UNREACHABLE, podRequests, tolerationMs } from './api_observer.js';

describe('tolerationMs', () => {
  test('reads tolerations of a NoExecute taint as the taint manager does', () => {
    expect(tolerationMs([], TAINT_UNREACHABLE)).toBe(0);
    expect(tolerationMs([{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }], TAINT_UNREACHABLE)).toBe(0);
    expect(tolerationMs([{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }, { key: TAINT_UNREACHABLE, operator: 'Exists', tolerationSeconds: 15 }], TAINT_UNREACHABLE)).toBe(15_000);
    expect(tolerationMs([{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }], TAINT_UNREACHABLE)).toBe(Infinity);
    expect(tolerationMs([{ operator: 'Exists' }], TAINT_UNREACHABLE)).toBe(Infinity);
    expect(tolerationMs([{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoSchedule' }], TAINT_UNREACHABLE)).toBe(0);
  });
});

describe('podRequests', () => {
  test('sums the containers, raised to the largest init container, plus overhead', () => {
    const requests = (cpu: string, memory: string) => ({ resources: { requests: { cpu, memory } } });
    expect(
      podRequests({
        spec: {
          containers: [{ name: 'a', ...requests('100m', '64Mi') }, { name: 'b', ...requests('0.2', '64Mi') }],
          initContainers: [{ name: 'i', ...requests('1', '1Mi') }],
          overhead: { cpu: '10m', memory: '1Mi' },
        },
      }),
    ).toEqual({ milliCpu: 1_010, memory: 129 * 1024 * 1024 });
    expect(podRequests({ spec: { containers: [{ name: 'a' }] } })).toEqual({ milliCpu: 0, memory: 0 });
  });
});
