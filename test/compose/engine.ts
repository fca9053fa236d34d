import { execFileSync } from 'node:child_process';

/** Whether a Docker engine answers here: the compose suites are skipped without one (.ci/run starts one). */
export function engineAnswers(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** The compose projects the suite's files bring up, one each, so that none sees another's cluster. */
export const TEST_PROJECTS = { cluster: 'k8ts-test', chaos: 'k8ts-chaos-test', walkthrough: 'k8ts-walk' } as const;

function docker(args: string[]): string[] {
  return execFileSync('docker', args, { encoding: 'utf8', timeout: 120_000 }).split('\n').filter(Boolean);
}

/**
 * Removes what an earlier run that did not end cleanly left of a project: its containers (with
 * restart: unless-stopped they come back with the engine, and hold their network's subnet and the
 * machine's CPU), its networks, and its volumes (a store volume keeps the old cluster's Nodes, which a
 * new cluster would then list beside its own). Containers are found by compose's label and, for the
 * ones a test starts by hand beside a project (named `<project>-...`), by name.
 */
export function clearProject(project: string): void {
  const containers = new Set([
    ...docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]),
    ...docker(['ps', '-aq', '--filter', `name=^${project}-`]),
  ]);
  if (containers.size > 0) docker(['rm', '-f', '-v', ...containers]);
  const networks = docker(['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`]);
  for (const network of networks) {
    try {
      docker(['network', 'rm', network]);
    } catch (error) {
      // The engine can keep counting an endpoint that no container holds (see deploy/compose.sh
      // down): such a network holds nothing and the project's next `up` reuses it.
      if (!String((error as { stderr?: unknown }).stderr ?? error).includes('has active endpoints')) throw error;
      console.warn(`compose project ${project}: network ${network} left (the engine counts an endpoint no container holds)`);
    }
  }
  const volumes = docker(['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`]);
  if (volumes.length > 0) docker(['volume', 'rm', '-f', ...volumes]);
}
