/**
 * One run of the scheduler's property test: from a seed, random nodes (capacities, zones, labels,
 * taints, some unschedulable) and random pods (requests, priorities, tolerations, node selectors,
 * anti-affinity, host ports, owners) are created in a random order, interleaved with the scheduling,
 * against the simulated API with random watch and write latencies; then everything runs until nothing
 * moves. The same seed gives the same run. Shared by the property test and its mutation tests (which
 * break the scheduler through `schedulerOptions` and show the checkers catch it). Test-only.
 */
import { FakeClock, seededRandom } from '@k8ts/base';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { ClusterWriter } from '../scheduler/cluster_writer.js';
import { parseSchedulerConfiguration } from '../scheduler/configuration.js';
import { Scheduler, type SchedulerLogger, type SchedulerOptions } from '../scheduler/scheduler.js';
import { HOSTNAME_LABEL, node, pod, ZONE_LABEL } from './builders.js';
import { noNodeOvercommitted, noPodBoundTwice, noPodOnForbiddenNode, noPodsClashing, noSchedulablePodLeftPending, type Violation } from './invariants.js';
import { nextTurn, settle, SimCluster } from './sim_cluster.js';

type Random = () => number;

/** "129", "1-5000", "1-5,9": the seeds a run covers. */
export function parseSeeds(text: string): number[] {
  return text.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map(Number);
    return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
  });
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (random: Random, p: number): boolean => random() < p;
const between = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

function randomNode(random: Random, index: number): Node {
  const builder = node(`n${index}`)
    .cpu(pick(random, ['1', '2', '4']))
    .memory(pick(random, ['2Gi', '4Gi', '8Gi']))
    .pods(between(random, 2, 8))
    .zone(pick(random, ['a', 'b', 'c']));
  if (chance(random, 0.3)) builder.label('disk', 'ssd');
  if (chance(random, 0.2)) builder.taint('dedicated', 'infra', 'NoSchedule');
  if (chance(random, 0.1)) builder.unschedulable(); // cordoned
  return builder.build();
}

function randomPod(random: Random, index: number): Pod {
  const builder = pod(`p${index}`).priority(pick(random, [0, 0, 10, 100]));
  if (chance(random, 0.9)) builder.request({ cpu: pick(random, ['100m', '250m', '500m', '1', '1500m', '2']), memory: pick(random, ['128Mi', '512Mi', '1Gi', '2Gi']) });
  if (chance(random, 0.2)) builder.toleration({ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' });
  if (chance(random, 0.15)) builder.nodeSelector({ disk: 'ssd' });
  else if (chance(random, 0.1)) builder.nodeSelector({ [ZONE_LABEL]: pick(random, ['a', 'b', 'c']) });
  if (chance(random, 0.25)) {
    // One replica per node, as a StatefulSet with hard anti-affinity.
    const app = pick(random, ['web', 'db']);
    builder.label('app', app).spec({
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey: HOSTNAME_LABEL }] } },
    });
  }
  if (chance(random, 0.1)) builder.hostPort(8080);
  if (chance(random, 0.4)) builder.owner('ReplicaSet', pick(random, ['rs-a', 'rs-b']));
  if (chance(random, 0.1)) builder.spec({ preemptionPolicy: 'Never' });
  return builder.build();
}

type Step = { node: Node } | { pod: Pod };

/** Nodes and pods in a random order. */
function randomSteps(random: Random): Step[] {
  const steps: Step[] = [
    ...Array.from({ length: between(random, 2, 5) }, (_, i) => ({ node: randomNode(random, i) })),
    ...Array.from({ length: between(random, 5, 18) }, (_, i) => ({ pod: randomPod(random, i) })),
  ];
  for (let i = steps.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [steps[i], steps[j]] = [steps[j]!, steps[i]!];
  }
  return steps;
}

function causeOf(fields: object): string {
  const error = (fields as { err?: unknown }).err;
  return error instanceof Error ? error.message : String(error);
}

/** What a test may change in each scheduler it runs (a mutation test: a broken plugin or cache). */
export type SchedulerOverrides = (scheduler: { name: string; writer: ClusterWriter; clock: FakeClock }) => Partial<SchedulerOptions>;

export interface PropertyRunOptions {
  /** Schedulers that all believe they lead; default 1. */
  replicas?: number;
  overrides?: SchedulerOverrides;
}

export interface Outcome {
  seed: number;
  sim: SimCluster;
  /** What the schedulers logged as errors (cache inconsistencies among them), and handler errors. */
  errors: string[];
}

const CONFIGURATION = parseSchedulerConfiguration();

/** Runs the schedulers against one simulated cluster built from `seed`, until quiet. */
export async function propertyRun(seed: number, options: PropertyRunOptions = {}): Promise<Outcome> {
  const random = seededRandom(seed);
  const clock = new FakeClock(1_000_000);
  const sim = new SimCluster({ seed, clock });
  const errors: string[] = [];
  const schedulers = Array.from({ length: options.replicas ?? 1 }, (_, i) => {
    const name = `scheduler-${i}`;
    const writer = sim.writer(name);
    const logger: SchedulerLogger = { debug() {}, info() {}, warn() {}, error: (fields, message) => errors.push(`${name}: ${message}: ${causeOf(fields)}`) };
    const scheduler = new Scheduler({
      configuration: CONFIGURATION,
      writer,
      clock,
      random: seededRandom(seed * 100 + i),
      logger,
      ...options.overrides?.({ name, writer, clock }),
    });
    sim.subscribe(scheduler, name);
    return scheduler;
  });
  const controller = new AbortController();
  const loops = schedulers.map((scheduler) => scheduler.run(controller.signal));
  try {
    for (const step of randomSteps(random)) {
      if ('node' in step) sim.addNode(step.node);
      else sim.createPod(step.pod);
      for (let i = between(random, 0, 3); i > 0; i--) await nextTurn();
    }
    await settle(sim, schedulers, clock);
  } finally {
    controller.abort();
    for (const scheduler of schedulers) scheduler.close();
    await Promise.all(loops);
  }
  errors.push(...sim.deliveryErrors.map((error) => error.message));
  return { seed, sim, errors };
}

/** Every invariant that must hold after one scheduler ran. */
export function oneSchedulerViolations({ sim }: Outcome): Violation[] {
  const nodes = sim.nodes();
  const pods = sim.pods();
  return [
    ...noPodBoundTwice(sim.history, pods),
    ...noNodeOvercommitted(nodes, pods),
    ...noPodOnForbiddenNode(nodes, pods),
    ...noPodsClashing(nodes, pods),
    ...noSchedulablePodLeftPending(nodes, pods),
  ];
}

export function describeViolations(seed: number, violations: readonly Violation[]): string[] {
  return violations.map(({ invariant, where, what }) => `seed ${seed}: ${invariant} at ${where}: ${what}`);
}
