import { describe, expect, it } from 'vitest';
import { measureCpu, parseMachineBusyTicks, parseProcStatTicks } from './cpu.js';

describe('CPU accounting', () => {
  it('reads utime + stime from /proc/<pid>/stat, even with spaces and parentheses in the name', () => {
    const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 123 456';
    expect(parseProcStatTicks(stat)).toBe(325);
  });

  it('reads the machine\'s busy ticks from /proc/stat, leaving out idle, iowait and steal', () => {
    const stat = 'cpu  100 5 50 9000 40 3 2 70 0 0\ncpu0 50 2 25 4500 20 1 1 35 0 0\nintr 1';
    expect(parseMachineBusyTicks(stat)).toBe(160);
  });

  it('agrees with process.cpuUsage when the member is this process (whatever else the machine runs)', async () => {
    const { result, cpu } = await measureCpu([process.pid], async () => {
      // Spin until this process has used 200 ms of CPU (or 10 s passed on a starved machine).
      const start = process.cpuUsage();
      const wallLimit = performance.now() + 10_000;
      let spins = 0;
      while (process.cpuUsage(start).user < 200_000 && performance.now() < wallLimit) spins += 1;
      return spins;
    });
    expect(result).toBeGreaterThan(0);
    expect(cpu.loadGeneratorPercent).toBeGreaterThan(0);
    expect(cpu.loadGeneratorPercent).toBeLessThan(150); // one thread, plus a little GC
    if (process.platform === 'linux') {
      // /proc counts in 10 ms ticks: within ±25% of 200 ms.
      expect((cpu.membersPercent ?? 0) / cpu.loadGeneratorPercent).toBeGreaterThan(0.75);
      expect((cpu.membersPercent ?? 0) / cpu.loadGeneratorPercent).toBeLessThan(1.25);
      expect(cpu.machinePercent).toBeGreaterThanOrEqual((cpu.membersPercent ?? 0) * 0.75);
    }
  });
});
