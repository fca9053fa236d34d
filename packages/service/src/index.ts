/**
 * @k8ts/service: the one start-up path of every k8ts process (wiring helpers, no component logic).
 */
export { booleanFlag, durationFlag, numberFlag, parseDuration, parseFlagsOrExit, portFlag } from './flags.js';
export { serveHealth, type HealthServerOptions } from './health_server.js';
export { onShutdown, runMain } from './lifecycle.js';
export { addLeaderElectionFlags, runLeaderElected, type LeaderElectedOptions, type LeaderElectionFlags } from './leader_election.js';
