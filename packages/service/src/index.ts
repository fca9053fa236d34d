/**
 * @k8ts/service: the one start-up path of every k8ts process (wiring helpers, no component logic).
 */
export { booleanFlag, durationFlag, exitWithUsageError, numberFlag, parseDuration, parseFlagsOrExit, portFlag, splitList } from './flags.js';
export { addComponentFlags, type ComponentFlags } from './component_flags.js';
export { serveHealth, type HealthServerOptions } from './health_server.js';
export { listen, writeMetrics, type MetricsSource } from './http.js';
export { onShutdown, runMain } from './lifecycle.js';
export {
  addLeaderElectionFlags,
  isLeading,
  leaderIdentity,
  runLeaderElected,
  type LeaderElectedOptions,
  type LeaderElectionFlags,
} from './leader_election.js';
export { leaderGauge, registerLeaderElectionMetric } from './leader_metric.js';
