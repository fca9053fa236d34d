import { pino, type Logger } from 'pino';
import { removePodNetwork } from './network/remove_pod_network.js';
import type { PodNetwork } from './network/pod_network.js';
import { ProcessRuntime } from './runtime/process/process_runtime.js';

/** The network is removed whole afterwards (removePodNetwork); the runtime only needs one that forgets. */
const FORGETFUL_NETWORK: PodNetwork = {
  mode: 'host',
  setUp: async () => ({ ips: [], enter: [] }),
  tearDown: async () => {},
  intact: async () => true,
  reconcile: async () => [],
};

/**
 * Takes a node away for good (`k8ts down`, a test's clean-up): a stopped agent leaves its pods'
 * processes running, as a kubelet's restart does, so this adopts them through the process runtime
 * over the agent's root dir, stops each (SIGTERM, then SIGKILL after `graceSeconds`), removes them
 * and their sandboxes (cgroups included), then removes the pod network. Run it only once the agent
 * itself has stopped. Resolves to the number of containers it stopped.
 */
export async function tearDownNode(rootDir: string, options: { logger?: Logger; graceSeconds?: number } = {}): Promise<number> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const runtime = new ProcessRuntime({ rootDir, network: FORGETFUL_NETWORK, logMaxSizeBytes: 1 << 20, logMaxFiles: 1, logger });
  let stopped = 0;
  try {
    const running = await runtime.listContainers({ state: 'running' });
    await Promise.all(running.map((container) => runtime.stopContainer(container.id, options.graceSeconds ?? 5)));
    stopped = running.length;
    for (const container of await runtime.listContainers()) await runtime.removeContainer(container.id);
    for (const sandbox of await runtime.listPodSandboxes()) {
      await runtime.stopPodSandbox(sandbox.id);
      await runtime.removePodSandbox(sandbox.id);
    }
  } finally {
    await runtime.close();
  }
  await removePodNetwork(rootDir);
  return stopped;
}
