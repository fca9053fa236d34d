import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readFileSync } from 'node:fs';

/**
 * The one way k8ts starts a process of its own and waits until it serves: the test kit's store
 * members, API servers and components, and `k8ts up`'s local cluster.
 */

/** Where a launched process's log (stdout and stderr together) goes. */
export type LaunchOutput =
  /** Kept in memory: appended to `into.log`, of which the last `limitChars` characters are kept. */
  | { readonly into: { log: string }; readonly limitChars: number }
  /** Appended to a file (the process may outlive its launcher). */
  | { readonly file: string };

export interface LaunchOptions {
  readonly output: LaunchOutput;
  /** A process group of its own, not tied to the launcher's terminal or exit (`k8ts up`). */
  readonly detached?: boolean;
  /** The child's environment; the launcher's own when absent. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The environment of a local cluster's parts (`k8ts up`, and chaos restarting one): settings that
 * cut a Node process's idle memory at no measured cost under load (packages/cli/README.md,
 * "Figures": listed RSS about −26 MiB; `k8ts bench apiserver` at 400/s, the same CPU).
 * glibc gives every thread that mallocs an arena of its own, up to eight per core: two are enough for
 * a process whose JavaScript runs on one thread. V8's worker pool (concurrent GC marking, background
 * compilation) is four threads by default, more than two cores can run beside the main thread.
 * deploy/Dockerfile sets the same for the compose cluster.
 */
export const CLUSTER_PART_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  MALLOC_ARENA_MAX: '2',
  NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --v8-pool-size=1`.trim(),
};

/** Starts `binary` with `args`; a spawn failure (no such file) surfaces as an exit, not a crash. */
export function launchProcess(binary: string, args: readonly string[], options: LaunchOptions): ChildProcess {
  const { output } = options;
  const env = options.env ?? process.env;
  if ('file' in output) {
    const fd = openSync(output.file, 'a');
    try {
      const child = spawn(binary, args, { detached: options.detached ?? false, env, stdio: ['ignore', fd, fd] });
      return watched(child, binary, (text) => appendFileSync(output.file, text));
    } finally {
      closeSync(fd); // the child holds its own copy
    }
  }
  const child = spawn(binary, args, { detached: options.detached ?? false, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer | string): void => {
    output.into.log = (output.into.log + chunk.toString()).slice(-output.limitChars);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return watched(child, binary, keep);
}

/** A spawn error (ENOENT, EACCES) goes to the log instead of crashing the launcher; `isRunning` is then false. */
function watched(child: ChildProcess, binary: string, log: (text: string) => void): ChildProcess {
  child.on('error', (error) => log(`${binary}: ${error.message}\n`));
  return child;
}

/** Whether a child is still running (spawned and not yet exited). */
export function isRunning(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null && child.pid !== undefined;
}

/** How a child ended, in words ("exited with code 1", "was killed by SIGABRT"). */
export function describeExit(child: ChildProcess): string {
  if (child.pid === undefined) return 'did not start';
  return child.signalCode !== null ? `was killed by ${child.signalCode}` : `exited with code ${String(child.exitCode)}`;
}

export interface WaitHealthyOptions {
  readonly timeoutMs: number;
  /** Named in the error (default: the URL). */
  readonly name?: string;
  /** The process behind the URL: its exit ends the wait at once. */
  readonly process?: ChildProcess | undefined;
  /** Its log, appended to the error. */
  readonly log?: () => string;
  readonly pollMs?: number;
}

/**
 * Polls `url` until it answers 2xx. Throws when `timeoutMs` passes or the process exits first,
 * naming what did not become healthy and why, with its log.
 */
export async function waitHealthy(url: string, options: WaitHealthyOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const child = options.process;
  const fail = (why: string): Error => {
    const log = options.log?.() ?? '';
    return new Error(`${options.name ?? url} (${url}) ${why}${log === '' ? '' : `:\n${log}`}`);
  };
  for (;;) {
    if (child !== undefined && !isRunning(child)) throw fail(`${describeExit(child)} before it was healthy`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(Math.max(1, Math.min(5_000, deadline - Date.now()))) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() >= deadline) throw fail(`not healthy within ${options.timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, options.pollMs ?? 100));
  }
}

/** Resolves true once the child has exited (at once if it has), false if `timeoutMs` passes first. */
export function waitForExit(child: ChildProcess, timeoutMs = Infinity): Promise<boolean> {
  if (!isRunning(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => resolve(false), timeoutMs) : undefined;
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Sends `signal` (SIGKILL: a crash) and waits for the exit; nothing if it has exited already. */
export async function signalAndWait(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!isRunning(child)) return;
  const exited = waitForExit(child);
  child.kill(signal);
  await exited;
}

/** Whether a process (not necessarily our child: one `k8ts up` started earlier) is alive. */
export function pidAlive(pid: number): boolean {
  // 0 and negative numbers name process groups (-1: every process we may signal), never one process.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** A process that has exited but is not reaped yet (Linux's /proc; elsewhere: not known, false). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/**
 * Stops processes by pid, in the order given: SIGTERM to each, then waits up to `graceMs` for all
 * to exit, then SIGKILL to those still alive. For processes this one did not start (no exit event).
 */
export async function stopPids(pids: readonly number[], graceMs: number): Promise<void> {
  for (const pid of pids) signalPid(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(pidAlive) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
  for (const pid of pids) signalPid(pid, 'SIGKILL');
  // Gone before the caller reuses their ports (bounded: a process stuck in the kernel ignores even SIGKILL).
  const killDeadline = Date.now() + 5_000;
  while (pids.some(pidAlive) && Date.now() < killDeadline) await new Promise((done) => setTimeout(done, 20));
}

/** Signals a live process; one that has exited meanwhile is fine. */
function signalPid(pid: number, signal: NodeJS.Signals): void {
  if (!pidAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
