import { describe, expect, test } from 'vitest';
import { allocatableAmounts, capacityList, DEFAULT_EVICTION_HARD, formatBytes, formatCpu, parseByteSize, parseEvictionHard, parseReservation } from './resources.js';

const Gi = 1024 ** 3;
const Mi = 1024 ** 2;

describe('capacity and allocatable as the kubelet computes them', () => {
  test('capacity: cores, BinarySI bytes, pods', () => {
    expect(capacityList({ cpuMillis: 2000, memoryBytes: 8 * Gi + 4096, ephemeralStorageBytes: 100 * Gi, pods: 110 })).toEqual({
      cpu: '2',
      memory: '8388612Ki',
      'ephemeral-storage': '100Gi',
      pods: '110',
    });
  });

  test('allocatable = capacity - kube-reserved - system-reserved - hard eviction thresholds', () => {
    const capacity = { cpuMillis: 4000, memoryBytes: 8 * Gi, ephemeralStorageBytes: 100 * Gi, pods: 110 };
    const allocatable = allocatableAmounts(capacity, [parseReservation('cpu=100m,memory=256Mi'), parseReservation('cpu=200m,ephemeral-storage=1Gi')], DEFAULT_EVICTION_HARD);
    expect(allocatable).toEqual({ cpuMillis: 3700, memoryBytes: 8 * Gi - 256 * Mi - 100 * Mi, ephemeralStorageBytes: 100 * Gi - Gi - 10 * Gi, pods: 110 });
    expect(capacityList(allocatable)).toMatchObject({ cpu: '3700m', memory: '7836Mi', 'ephemeral-storage': '89Gi' });
  });

  test('never below zero', () => {
    const allocatable = allocatableAmounts({ cpuMillis: 1000, memoryBytes: 50 * Mi, ephemeralStorageBytes: 0, pods: 1 }, [{ cpuMillis: 2000 }]);
    expect(allocatable).toEqual({ cpuMillis: 0, memoryBytes: 0, ephemeralStorageBytes: 0, pods: 1 });
  });

  test('formatting: exact binary suffixes, else bytes; millicores unless whole', () => {
    expect(formatBytes(1536)).toBe('1536'); // 1.5Ki is not exact: upstream writes the bytes
    expect(formatBytes(3 * Mi)).toBe('3Mi');
    expect(formatBytes(0)).toBe('0');
    expect(formatCpu(1500)).toBe('1500m');
    expect(formatCpu(3000)).toBe('3');
  });
});

describe('reservation and eviction flags', () => {
  test('parsed as upstream', () => {
    expect(parseReservation('cpu=500m, memory=1Gi,ephemeral-storage=2G,pid=100')).toEqual({ cpuMillis: 500, memoryBytes: Gi, ephemeralStorageBytes: 2e9, pid: 100 });
    expect(parseReservation('')).toEqual({});
    expect(parseEvictionHard('memory.available<5%,nodefs.available<1Gi,imagefs.available<15%')).toEqual({ memoryAvailableShare: 0.05, nodefsAvailableBytes: Gi });
  });
  test('bad values are refused, naming them', () => {
    expect(() => parseReservation('gpu=1')).toThrow('cannot reserve "gpu" resource');
    expect(() => parseReservation('cpu=lots')).toThrow('failed to parse quantity "lots" for resource "cpu"');
    expect(() => parseReservation('cpu=-1')).toThrow('cannot be negative');
    expect(() => parseReservation('cpu')).toThrow('takes name=quantity');
    expect(() => parseEvictionHard('memory.free<1Gi')).toThrow('unknown eviction signal "memory.free"');
    expect(() => parseEvictionHard('nodefs.available<120%')).toThrow('invalid percentage');
    expect(() => parseByteSize('0')).toThrow('must be positive');
    expect(parseByteSize('10Mi')).toBe(10 * Mi);
  });
});
