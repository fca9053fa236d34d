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
