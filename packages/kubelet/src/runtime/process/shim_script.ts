/**
 * The per-container shim: a small `sh` script (a Node process per container would cost ~40 MB) that
 * outlives the agent. It
 * - makes the container's stdout/stderr FIFOs and holds them open for reading and writing, so the
 *   container never gets SIGPIPE or EOF on its stdin while the agent is down (output then waits in the
 *   pipe; once it is full the container blocks until an agent reads again);
 * - in a mount namespace of the container's own, binds each volume at its container path;
 * - joins the container's cgroups and starts the command in a session (and process group) of its own,
 *   with a clean environment and default signal dispositions (a background job of sh ignores SIGINT
 *   and SIGQUIT otherwise), writing its pid to `pid`;
 * - when the command ends, kills what is left of its process group (as the end of a pid namespace's
 *   init would), writes the exit status to `exit`, then stops itself (SIGSTOP) keeping the FIFOs — and
 *   what is still unread in them — until the agent has drained them and kills it.
 * A start that fails before the command (a mount, the working dir) writes `start_error` and exit 128.
 * Every external command costs a fork and an exec (tens of ms on a loaded node), so the shim uses
 * builtins wherever it can. Its small files (pid, exit) are written with one write(2) each: a reader
 * may find one empty (just created) and then reads it again, never half of one.
 */
import { posix } from 'node:path';
import type { Mount } from '../runtime.js';

export interface ShimPlan {
  readonly containerDir: string;
  /** Absolute program path (as the container sees it) and its arguments. */
  readonly argv: readonly string[];
  readonly env: readonly (readonly [string, string])[];
  readonly workingDir: string;
  /** Mounts to bind (mount-namespace mode only), each with whether its host path is a folder. */
  readonly mounts: readonly (Mount & { readonly isDirectory: boolean })[];
  readonly cgroupProcFiles: readonly string[];
  readonly stdin: boolean;
}

export const SHIM_FILES = {
  script: 'shim.sh',
  stdout: 'stdout',
  stderr: 'stderr',
  stdin: 'stdin',
  shimPid: 'shim.pid',
  pid: 'pid',
  exit: 'exit',
  startError: 'start_error',
} as const;

export function quote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function shimScript(plan: ShimPlan): string {
  const f = SHIM_FILES;
  const fifos = [f.stdout, f.stderr, ...(plan.stdin ? [f.stdin] : [])];
  const lines: string[] = [
    '# k8ts container shim (see shim_script.ts)',
    `cd ${quote(plan.containerDir)} || exit 1`,
    `echo $$ > ${f.shimPid}`,
    `fail() { printf '%s' "$1" > ${f.startError}; echo 128 > ${f.exit}; kill -STOP $$; exit 128; }`,
    `[ -p ${f.stdout} ] || mkfifo -m 600 ${fifos.join(' ')} || fail 'cannot make the output FIFOs'`,
    `exec 3<>${f.stdout} 4<>${f.stderr}`,
    plan.stdin ? `exec 5<>${f.stdin}` : 'exec 5</dev/null',
  ];
  for (const mount of plan.mounts) {
    const target = quote(mount.containerPath);
    const source = quote(mount.hostPath);
    const what = `error mounting ${mount.hostPath} to rootfs at ${mount.containerPath}`;
    lines.push(
      // Tested first: mkdir is a fork and an exec, and the mount point is usually there already.
      mount.isDirectory
        ? `[ -d ${target} ] || mkdir -p ${target} || fail ${quote(`${what}: cannot create the mount point`)}`
        : `{ [ -d ${quote(posix.dirname(mount.containerPath))} ] || mkdir -p ${quote(posix.dirname(mount.containerPath))}; } && { [ -e ${target} ] || : > ${target}; } || fail ${quote(`${what}: cannot create the mount point`)}`,
      `mount --bind ${source} ${target} 2>/dev/null || fail ${quote(`${what}: mount failed`)}`,
    );
    if (mount.readOnly) lines.push(`mount -o remount,bind,ro ${target} 2>/dev/null || fail ${quote(`${what}: read-only remount failed`)}`);
  }
  const wd = quote(plan.workingDir);
  lines.push(`[ -d ${wd} ] || mkdir -p ${wd} 2>/dev/null; [ -d ${wd} ] || fail ${quote(`chdir to cwd ("${plan.workingDir}") set in config.json failed: no such file or directory`)}`);
  const join = plan.cgroupProcFiles.map((file) => `echo 0 > ${quote(file)}`);
  const envArgs = plan.env.map(([name, value]) => quote(`${name}=${value}`)).join(' ');
  const command = plan.argv.map(quote).join(' ');
  lines.push(
    `( ${[...join, `cd ${wd}`, `exec setsid env --default-signal -i ${envArgs} ${command} 3>&- 4>&- 5>&-`].join(' && ')} ) <&5 >&3 2>&4 &`,
    'pid=$!',
    `echo "$pid" > ${f.pid}`,
    'wait "$pid"; code=$?',
    'kill -9 -"$pid" 2>/dev/null',
    `echo "$code" > ${f.exit}`,
    'kill -STOP $$',
    '',
  );
  return lines.join('\n');
}
