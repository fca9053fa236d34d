/** Fixtures for the process runtime's tests (no test framework here: plain values and a poll). */
import { join } from 'node:path';
import type { PodNetwork } from '../../network/pod_network.js';
import type { ContainerConfig, PodSandboxConfig } from '../runtime.js';

/** Every pod on the node's network: what an agent without privileges runs. */
export const hostNetworkStandIn: PodNetwork = {
  mode: 'host',
  setUp: async () => ({ ips: ['127.0.0.1'], enter: [] }),
  tearDown: async () => {},
  intact: async () => true,
  reconcile: async () => [],
};

export function sandboxConfig(name: string, logDirectory: string): PodSandboxConfig {
  return {
    uid: `uid-${name}`,
    name,
    namespace: 'default',
    attempt: 0,
    hostname: name,
    hostNetwork: false,
    logDirectory,
    portMappings: [],
    labels: {},
    annotations: {},
  };
}

/** A busybox container logging to `<logDirectory>/<name>/0.log`, with `overrides` over that. */
export function containerConfig(logDirectory: string, overrides: Partial<ContainerConfig> & { name: string }): ContainerConfig {
  return {
    image: 'busybox',
    attempt: 0,
    command: [],
    args: [],
    env: [],
    mounts: [],
    logPath: join(logDirectory, overrides.name, '0.log'),
    resources: {},
    stdin: false,
    stdinOnce: false,
    tty: false,
    labels: {},
    annotations: {},
    ...overrides,
  };
}

/** Polls `check` until it gives a value other than undefined or false; throws after the deadline. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
