/**
 * What `k8ts bench pods` does. Two modes on one kind of node:
 * - churn (the default): pods created at a steady rate (20/s, the rate of Kubernetes' pod startup
 *   SLO tests) and each deleted after its lifetime, so creates and deletes run side by side; the
 *   figure is pod startup latency (created → all containers running, seen by a watch).
 * - scale (`--pods N`): N pods created as fast as the API takes them; the figures are the time until
 *   all are Ready, the agents' memory, and whether every node stayed Ready while holding them.
 * Nodes: `--simulated-nodes N` (one k8ts-node-agent --runtime simulated) or `--nodes N` (N agents of
 * the process runtime).
 */

export type PodsBenchRuntime = 'simulated' | 'process';

export interface PodsBenchOptions {
  readonly runtime: PodsBenchRuntime;
  readonly nodes: number;
  /** Churn: pods created per second, and how long. */
  readonly ratePerSecond: number;
  readonly durationSeconds: number;
  /** Churn: each pod is deleted this long after it was created. */
  readonly podLifetimeSeconds: number;
  /** Scale mode when > 0: this many pods at once. */
  readonly pods: number;
  /** Scale mode: after all are Ready, how long the nodes hold them (leases must stay fresh). */
  readonly holdSeconds: number;
  readonly createConcurrency: number;
  readonly image: string;
  /** How long the run waits for pods to start (and, at the end, to go). */
  readonly timeoutSeconds: number;
  /** Store members under the one apiserver. */
  readonly members: number;
}

export const DEFAULT_PODS_OPTIONS: Omit<PodsBenchOptions, 'runtime' | 'nodes'> = {
  ratePerSecond: 20,
  durationSeconds: 30,
  podLifetimeSeconds: 10,
  pods: 0,
  holdSeconds: 30,
  createConcurrency: 64,
  image: 'k8ts/pause',
  timeoutSeconds: 600,
  members: 1,
};

/** The targets, printed beside the figures; they never change the exit status. */
export const PODS_TARGETS = {
  p99StartupMs: 1000,
  sloP99StartupMs: 5000,
  simulatedNodesUnder1GiB: 1000,
  scaleNodes: 5000,
  scalePods: 150_000,
} as const;

export function checkPodsOptions(options: PodsBenchOptions): void {
  const ranges: [string, number, number, number][] = [
    [options.runtime === 'simulated' ? '--simulated-nodes' : '--nodes', options.nodes, 1, options.runtime === 'simulated' ? 100_000 : 50],
    ['--rate', options.ratePerSecond, 1, 10_000],
    ['--duration', options.durationSeconds, 1, 86_400],
    ['--pod-lifetime', options.podLifetimeSeconds, 0, 86_400],
    ['--pods', options.pods, 0, 1_000_000],
    ['--hold', options.holdSeconds, 0, 86_400],
    ['--create-concurrency', options.createConcurrency, 1, 10_000],
    ['--timeout', options.timeoutSeconds, 1, 86_400],
    ['--members', options.members, 1, 7],
  ];
  for (const [flag, value, minimum, maximum] of ranges) {
    if (!Number.isInteger(value) || value < minimum || value > maximum) throw new RangeError(`${flag} ${value} must be an integer from ${minimum} to ${maximum}`);
  }
  if (options.image.trim() === '') throw new RangeError('--image must name an image');
}
