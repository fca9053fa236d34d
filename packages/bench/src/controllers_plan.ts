/**
 * `k8ts bench controllers`: the workload and its measurement, without processes.
 *
 * The load is clusterloader2's "load" shape: Deployments of three sizes (small 5, medium 30, big 250
 * replicas), created so that the pods they ask for arrive at `podsPerSecond` (each Deployment is
 * due when the pods of those before it, at that rate, have been asked for — clusterloader2 paces
 * its creates the same way). What is measured per Deployment: from its create to all its pods
 * created, and to all of them bound.
 */
import { seededRandom } from '@k8ts/base';
import { summarizeLatencies, type LatencySummary } from './stats.js';

export const DEPLOYMENT_SIZES = { small: 5, medium: 30, big: 250 } as const;
export type DeploymentSize = keyof typeof DEPLOYMENT_SIZES;

export interface ControllersBenchOptions {
  readonly small: number;
  readonly medium: number;
  readonly big: number;
  readonly podsPerSecond: number;
  readonly nodes: number;
  readonly kubeApiQps: number;
  readonly kubeApiBurst: number;
  readonly timeoutSeconds: number;
  readonly seed: number;
}

export const DEFAULT_CONTROLLERS_OPTIONS: ControllersBenchOptions = {
  small: 20,
  medium: 4,
  big: 1,
  podsPerSecond: 50,
  nodes: 100,
  kubeApiQps: 500,
  kubeApiBurst: 1000,
  timeoutSeconds: 300,
  seed: 1,
};

export interface PlannedDeployment {
  readonly name: string;
  readonly size: DeploymentSize;
  readonly replicas: number;
  /** When its create is due, from the start of the run. */
  readonly dueMs: number;
}

/** The Deployments in a seeded order, each due when the pods before it have been asked for at the rate. */
export function planDeployments(options: ControllersBenchOptions): PlannedDeployment[] {
  if (!(options.podsPerSecond > 0)) throw new Error('--pod-rate must be positive');
  const sizes: DeploymentSize[] = [
    ...Array<DeploymentSize>(options.small).fill('small'),
    ...Array<DeploymentSize>(options.medium).fill('medium'),
    ...Array<DeploymentSize>(options.big).fill('big'),
  ];
  const random = seededRandom(options.seed);
  for (let i = sizes.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [sizes[i], sizes[j]] = [sizes[j] as DeploymentSize, sizes[i] as DeploymentSize];
  }
  let podsBefore = 0;
  return sizes.map((size, index) => {
    const replicas = DEPLOYMENT_SIZES[size];
    const planned = { name: `${size}-${String(index).padStart(4, '0')}`, size, replicas, dueMs: (podsBefore / options.podsPerSecond) * 1000 };
    podsBefore += replicas;
    return planned;
  });
}

/** What the pod watch saw of one Deployment, in ms from the run's start. */
export interface DeploymentTimeline {
  readonly planned: PlannedDeployment;
  createdAtMs?: number;
  readonly podCreatedAtMs: number[];
  readonly podBoundAtMs: number[];
}

export interface SizeFigures {
  readonly size: DeploymentSize | 'all';
  readonly deployments: number;
  /** Deployment create → its last pod created. */
  readonly toAllCreated: LatencySummary;
  /** Deployment create → its last pod bound. */
  readonly toAllBound: LatencySummary;
}

export interface ControllersFigures {
  readonly podsAsked: number;
  readonly podsCreated: number;
  readonly podsBound: number;
  /** Pods created per second from the first Deployment's create to the last pod created. */
  readonly podsCreatedPerSecond: number;
  readonly podsBoundPerSecond: number;
  readonly bySize: readonly SizeFigures[];
  /** Deployments that did not get all their pods created (or bound) before the timeout. */
  readonly incomplete: readonly string[];
}

export function computeFigures(timelines: readonly DeploymentTimeline[]): ControllersFigures {
  const asked = timelines.reduce((sum, t) => sum + t.planned.replicas, 0);
  const created = timelines.flatMap((t) => t.podCreatedAtMs);
  const bound = timelines.flatMap((t) => t.podBoundAtMs);
  const start = Math.min(...timelines.map((t) => t.createdAtMs ?? Infinity));
  const rate = (times: readonly number[]): number => (times.length === 0 || !Number.isFinite(start) ? 0 : times.length / Math.max(0.001, (Math.max(...times) - start) / 1000));
  const figuresOf = (size: DeploymentSize | 'all', group: readonly DeploymentTimeline[]): SizeFigures => {
    const complete = (times: (t: DeploymentTimeline) => readonly number[]): number[] =>
      group.filter((t) => t.createdAtMs !== undefined && times(t).length >= t.planned.replicas).map((t) => Math.max(...times(t)) - (t.createdAtMs as number));
    return { size, deployments: group.length, toAllCreated: summarizeLatencies(complete((t) => t.podCreatedAtMs)), toAllBound: summarizeLatencies(complete((t) => t.podBoundAtMs)) };
  };
  const sizes = (Object.keys(DEPLOYMENT_SIZES) as DeploymentSize[]).filter((size) => timelines.some((t) => t.planned.size === size));
  return {
    podsAsked: asked,
    podsCreated: created.length,
    podsBound: bound.length,
    podsCreatedPerSecond: Math.round(rate(created) * 10) / 10,
    podsBoundPerSecond: Math.round(rate(bound) * 10) / 10,
    bySize: [...sizes.map((size) => figuresOf(size, timelines.filter((t) => t.planned.size === size))), figuresOf('all', timelines)],
    incomplete: timelines.filter((t) => t.podBoundAtMs.length < t.planned.replicas).map((t) => t.planned.name),
  };
}
