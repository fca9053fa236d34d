export { simulateCommand } from './cli.js';
export { SafetyChecker, SafetyViolation } from './checker.js';
export { MUTATIONS, type Mutation, type SimulationParams } from './params.js';
export { parseSeedRange, replayCommand, runSeed, runSeeds } from './run.js';
export { ScriptedCluster } from './scripted_cluster.js';
export { Simulation, type SimulationResult, type SimulationStats } from './simulation.js';
