import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pidAlive } from '@k8ts/testkit';

/**
 * The pods a node's process runtime runs now, from the node itself rather than the API: its
 * container records under `<rootDir>/runtime/containers/<id>/container.json` whose process is alive,
 * named by their sandbox's pod (`<rootDir>/runtime/sandboxes/<id>/sandbox.json`). Read-only: the
 * agent may be dead, paused or cut off, and its pods still run.
 */

interface ContainerRecordSeen {
  readonly sandboxId?: string;
  readonly state?: string;
  readonly pid?: { readonly pid?: number };
}

interface SandboxRecordSeen {
  readonly config?: { readonly name?: string; readonly namespace?: string };
}

async function records<T>(folder: string, file: string): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  let ids: string[];
  try {
    ids = await readdir(folder);
  } catch {
    return found;
  }
  for (const id of ids) {
    try {
      found.set(id, JSON.parse(await readFile(join(folder, id, file), 'utf8')) as T);
    } catch {
      // removed or being renamed into place meanwhile
    }
  }
  return found;
}

/**
 * `namespace/name` of each pod with a live container process on the node (each pod once). `alive`
 * says whether a record's pid runs: this machine's by default; a container's pids are its own
 * (ComposeTarget passes a look into its /proc).
 */
export async function readNodePods(rootDir: string, alive: (pid: number) => boolean | Promise<boolean> = pidAlive): Promise<string[]> {
  const containers = await records<ContainerRecordSeen>(join(rootDir, 'runtime', 'containers'), 'container.json');
  const sandboxes = await records<SandboxRecordSeen>(join(rootDir, 'runtime', 'sandboxes'), 'sandbox.json');
  const pods = new Set<string>();
  for (const container of containers.values()) {
    const pid = container.pid?.pid;
    if (container.state !== 'running' || pid === undefined || container.sandboxId === undefined || !(await alive(pid))) continue;
    const config = sandboxes.get(container.sandboxId)?.config;
    if (config?.name !== undefined && config.namespace !== undefined) pods.add(`${config.namespace}/${config.name}`);
  }
  return [...pods];
}
