/**
 * CPU and memory of the cluster's processes as `k8ts status` shows them, from Linux /proc: CPU as a
 * percentage of one core over a short window (as top shows it, not the lifetime average ps shows),
 * RSS at the end of it.
 */
import { processCpuMs, processRssBytes } from '@k8ts/bench';

export interface ProcessUsage {
  /** % of one core over the window; undefined when the process is gone or /proc is unreadable. */
  readonly cpuPercent?: number;
  readonly rssBytes?: number;
}

/** Starts a window over `pids`; the returned function ends it and reports each pid's use. */
export function startUsageWindow(pids: readonly number[]): () => Map<number, ProcessUsage> {
  const startMs = performance.now();
  const startCpu = new Map(pids.map((pid) => [pid, processCpuMs(pid)]));
  return () => {
    const wallMs = performance.now() - startMs;
    const usage = new Map<number, ProcessUsage>();
    for (const pid of pids) {
      const before = startCpu.get(pid);
      const after = processCpuMs(pid);
      const rssBytes = processRssBytes(pid);
      const cpuPercent = before === undefined || after === undefined || wallMs <= 0 ? undefined : Math.round(((after - before) / wallMs) * 1000) / 10;
      usage.set(pid, { ...(cpuPercent === undefined ? {} : { cpuPercent }), ...(rssBytes === undefined ? {} : { rssBytes }) });
    }
    return usage;
  };
}

export function formatMiB(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
