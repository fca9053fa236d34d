import { clearProject, engineAnswers, TEST_PROJECTS } from './compose/engine.js';

/**
 * Before any test file runs: a machine that ran the suite before may still hold an interrupted run's
 * compose clusters, which the engine restarts when it starts. Left running, they take a Docker
 * network's subnet (which `k8ts up`'s node hosts then refuse to overlap) and CPU from every other file,
 * and their volumes hand old Nodes to the next cluster of the same project. Each compose file also
 * clears its own project before it starts.
 */
export default function setup(): void {
  if (!engineAnswers()) return;
  for (const project of Object.values(TEST_PROJECTS)) clearProject(project);
}
