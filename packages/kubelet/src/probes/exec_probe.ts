import type { ExecResult } from '../runtime/runtime.js';
import { failure, ProbeError, success, type ProbeOutcome } from './probe_result.js';

export type ExecSync = (containerId: string, command: readonly string[], timeoutSeconds: number) => Promise<ExecResult>;

const MAX_OUTPUT_BYTES = 10 * 1024;

/**
 * An exec probe through the runtime (`Runtime.execSync`): exit code 0 passes; any other fails with the
 * command's output (stdout then stderr, 10 KiB at most); a command still running at the timeout fails
 * with `command "<cmd>" timed out` (upstream's ExecProbeTimeout); a runtime error leaves the result unknown.
 */
export async function execProbe(execSync: ExecSync, containerId: string, command: readonly string[], timeoutSeconds: number): Promise<ProbeOutcome> {
  const timedOut = `command ${JSON.stringify(command.join(' '))} timed out`;
  let timer: NodeJS.Timeout | undefined;
  // The runtime enforces the timeout; this bound only guards against a runtime that does not.
  const guard = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000 + 2000)));
  try {
    const result = await Promise.race([execSync(containerId, command, timeoutSeconds), guard]);
    if (result === 'timeout') return failure(timedOut);
    const output = Buffer.concat([Buffer.from(result.stdout), Buffer.from(result.stderr)]).subarray(0, MAX_OUTPUT_BYTES).toString('utf8');
    return result.exitCode === 0 ? success(output) : failure(output);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/timeout|timed out|deadline exceeded/i.test(message)) return failure(timedOut);
    throw new ProbeError(message);
  } finally {
    clearTimeout(timer);
  }
}
