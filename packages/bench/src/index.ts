/**
 * @k8ts/bench: benchmarks as commands. Today: `storeBenchCommand()` (`k8ts bench store`), a load
 * generator on the etcd v3 gRPC API that also runs real etcd beside k8ts-store (`--vs-etcd`).
 */
export { storeBenchCommand } from './command.js';
export { apiserverBenchCommand } from './apiserver_command.js';
export { schedulerBenchCommand } from './scheduler_command.js';
export { controllersBenchCommand } from './controllers_command.js';
export { podsBenchCommand } from './pods_command.js';
export { proxyBenchCommand } from './proxy_command.js';
export { runStoreBench, hasTrouble, type StoreBenchMode } from './store_bench.js';
export { DEFAULT_OPTIONS, TEST_NAMES, type StoreBenchOptions, type TestName } from './options.js';
export { renderReport } from './report.js';
export { percentile, summarizeLatencies, type LatencySummary } from './stats.js';
export type * from './results.js';
export { upBenchCommand } from './up_command.js';
export { checkPerfBenchCommand } from './checkperf_command.js';
export { processCpuMs } from './cpu.js';
export { processRssBytes } from './pods_agents.js';
export { endpointStatus } from './etcd_client.js';
