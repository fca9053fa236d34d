/**
 * Paths as a container sees them, and where they are on the node. In mount-namespace mode a volume
 * is bound at its mountPath; without one, a path under a mountPath stands for the volume's host
 * folder, and the container learns its volumes from the environment:
 * `K8TS_MOUNT_<PATH>` (the mountPath upper-cased, every other character `_`, e.g.
 * `K8TS_MOUNT_USR_SHARE_NGINX_HTML`) holds the folder where the volume is visible to it — the mountPath
 * itself in mount-namespace mode, the host folder otherwise.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import type { Mount } from '../runtime.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function mountEnvName(containerPath: string): string {
  return `K8TS_MOUNT_${containerPath.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '')}`;
}

/** The node path of a container path: through the mount with the longest matching mountPath. */
export function hostPathOf(path: string, mounts: readonly Mount[]): string {
  const normal = posix.normalize(path);
  let best: Mount | undefined;
  for (const mount of mounts) {
    const root = posix.normalize(mount.containerPath).replace(/\/+$/, '') || '/';
    const inside = normal === root || normal.startsWith(root === '/' ? '/' : `${root}/`);
    if (inside && (best === undefined || root.length > best.containerPath.length)) best = { ...mount, containerPath: root };
  }
  if (best === undefined) return normal;
  return join(best.hostPath, normal.slice(best.containerPath.length));
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds `program` as exec would in the container: a name with a slash is a path (relative to the
 * working dir), otherwise each folder of PATH in turn. Returns the path as the container sees it and
 * as the node does, or undefined (runc's "executable file not found in $PATH").
 */
export function findExecutable(
  program: string,
  path: string,
  workingDir: string,
  mounts: readonly Mount[],
): { containerPath: string; hostPath: string } | undefined {
  const candidates = program.includes('/')
    ? [isAbsolute(program) ? program : posix.join(workingDir, program)]
    : path.split(':').map((dir) => posix.join(dir === '' ? workingDir : dir, program));
  for (const containerPath of candidates) {
    const hostPath = hostPathOf(containerPath, mounts);
    if (isExecutableFile(hostPath)) return { containerPath, hostPath };
  }
  return undefined;
}

/** runc's message for a program that cannot be found, as containerd passes it on. */
export function notFoundMessage(program: string): string {
  return program.includes('/')
    ? `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${program}": stat ${program}: no such file or directory: unknown`
    : `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${program}": executable file not found in $PATH: unknown`;
}

export function execNotFoundMessage(program: string): string {
  const why = program.includes('/') ? `stat ${program}: no such file or directory` : 'executable file not found in $PATH';
  return `OCI runtime exec failed: exec failed: unable to start container process: exec: "${program}": ${why}: unknown`;
}
