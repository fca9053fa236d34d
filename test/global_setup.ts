import { clearProject, engineAnswers, TEST_PROJECTS } from './compose/engine.js';

/**
 * Before any test file runs: a machine that ran the suite before may still hold an interrupted run's
 * compose clusters, which the engine restarts when it starts. Left running, they take a Docker
 * network's subnet (which `k8ts up`'s node hosts then refuse to overlap) and CPU from every other file,
 * and their volumes hand old Nodes to the next cluster of the same project. Each compose file also
 * clears its own project before it brings it up.
 */
export default function setup(): void {
  // Only under CI (.ci/run, CI=true), where this suite is the machine's only one: elsewhere another
  // suite may be running these projects right now (any vitest run, even of one file, comes here).
  if (process.env['CI'] === undefined || !engineAnswers()) return;
  for (const project of Object.values(TEST_PROJECTS)) clearProject(project);
}
