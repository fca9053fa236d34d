/**
 * simulated/: `k8ts-node-agent --runtime simulated --nodes N` — N nodes in one process, as kwok.
 * The fleet (SimulatedFleet) and its settings; everything else here is its inside.
 */
export { SimulatedFleet, SIMULATED_FLEET_LABEL, SIMULATED_NODE_ANNOTATION, simulatedNodeIp, type SimulatedFleetOptions, type SimulatedFleetStats } from './simulated_fleet.js';
export {
  DEFAULT_HEARTBEATS,
  DEFAULT_POD_TIMINGS,
  DEFAULT_WRITE_LIMITS,
  checkFleetConfig,
  defaultNodeShape,
  nodeNames,
  type SimulatedFleetConfig,
  type SimulatedHeartbeats,
  type SimulatedNodeShape,
  type SimulatedPodTimings,
  type SimulatedWriteLimits,
} from './options.js';
