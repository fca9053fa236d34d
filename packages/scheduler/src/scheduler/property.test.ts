/**
 * Properties of the scheduler over many random clusters: for each seed, random nodes (capacities,
 * zones, labels, taints) and random pods (requests, priorities, tolerations, node selectors,
 * anti-affinity, owners) are created in a random order, interleaved with the scheduling, against the
 * simulated API with random watch and write latencies; then everything runs until nothing moves.
 * Every failure names its seed: the run is reproducible from it.
 */
import { FakeClock, seededRandom } from '@k8ts/base';
import { describe, expect, it } from 'vitest';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { HOSTNAME_LABEL, node, pod, ZONE_LABEL } from '../testing/builders.js';
import { noNodeOvercommitted, noPodBoundTwice, noSchedulablePodLeftPending, type Violation } from '../testing/invariants.js';
import { nextTurn, settle, SimCluster } from '../testing/sim_cluster.js';
import { parseSchedulerConfiguration } from './configuration.js';
import { Scheduler, type SchedulerLogger } from './scheduler.js';

/** Seeds 1–200; PROPERTY_SEEDS="129" or "1-5000" (comma-separated too) replays or widens the search. */
const SEEDS = parseSeeds(process.env['PROPERTY_SEEDS'] ?? '1-200');
/** From this many seeds on, the runs must also show that they exercised preemption, refusals, etc. */
const FULL_RUN = 100;
const CONFIGURATION = parseSchedulerConfiguration();

type Random = () => number;

function parseSeeds(text: string): number[] {
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
  if (chance(random, 0.4)) builder.owner('ReplicaSet', pick(random, ['rs-a', 'rs-b']));
  if (chance(random, 0.1)) builder.spec({ preemptionPolicy: 'Never' });
  return builder.build();
}

function causeOf(fields: object): string {
  const error = (fields as { err?: unknown }).err;
  return error instanceof Error ? error.message : String(error);
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

interface Outcome {
  sim: SimCluster;
  /** What the schedulers logged as errors (cache inconsistencies among them). */
  errors: string[];
}

/** Runs `replicas` schedulers, all leading, against one simulated cluster built from `seed`, until quiet. */
async function run(seed: number, replicas: number): Promise<Outcome> {
  const random = seededRandom(seed);
  const clock = new FakeClock(1_000_000);
  const sim = new SimCluster({ seed, clock });
  const errors: string[] = [];
  const schedulers = Array.from({ length: replicas }, (_, i) => {
    const name = `scheduler-${i}`;
    const logger: SchedulerLogger = { debug() {}, info() {}, warn() {}, error: (fields, message) => errors.push(`${name}: ${message}: ${causeOf(fields)}`) };
    const scheduler = new Scheduler({ configuration: CONFIGURATION, writer: sim.writer(name), clock, random: seededRandom(seed * 100 + i), logger });
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
  return { sim, errors };
}

function describeViolations(seed: number, violations: readonly Violation[]): string[] {
  return violations.map(({ invariant, where, what }) => `seed ${seed}: ${invariant} at ${where}: ${what}`);
}

describe('scheduler properties over random clusters', () => {
  it('one scheduler: no pod bound twice, no node over-committed, no pod left pending that fits', async () => {
    const failures: string[] = [];
    let bound = 0;
    let pending = 0;
    let evictions = 0;
    for (const seed of SEEDS) {
      const { sim, errors } = await run(seed, 1);
      const pods = sim.pods();
      failures.push(
        ...describeViolations(seed, [
          ...noPodBoundTwice(sim.history, pods),
          ...noNodeOvercommitted(sim.nodes(), pods),
          ...noSchedulablePodLeftPending(sim.nodes(), pods),
        ]),
        ...errors.map((error) => `seed ${seed}: ${error}`),
        // Refusals happen alone too (a victim of preemption may be a pod still binding), but never for a pod already bound.
        ...sim.history.refused.filter((refused) => refused.message.includes('already assigned')).map((refused) => `seed ${seed}: ${refused.message}`),
      );
      bound += pods.filter((p) => p.spec?.nodeName).length;
      pending += pods.filter((p) => !p.spec?.nodeName).length;
      evictions += sim.history.evictions.length;
    }
    expect(failures).toEqual([]);
    if (SEEDS.length < FULL_RUN) return; // replaying a few seeds
    // The random clusters exercise what the properties are about: bindings, pods that fit nowhere, preemption.
    expect(bound).toBeGreaterThan(0);
    expect(pending).toBeGreaterThan(0);
    expect(evictions).toBeGreaterThan(0);
  });

  /*
   * Two replicas that both believe they lead (a split brain around leader election). Each has its own
   * cache and sees the other's bindings only through its watch, late. The API's binding rule (a pod that
   * has a node is refused) still keeps every pod bound once, which is asserted. Nodes, however, can be
   * over-committed: both replicas may each put a different pod into the same free room before hearing
   * of the other's choice. Upstream has the same limit and relies on the kubelet's admission to reject
   * the pod that does not fit; the scheduler cannot prevent it, so it is only counted and reported here.
   * Both replicas hear every event, so no pod that fits is left pending either. A replica whose binding
   * was refused after it already heard of the other's may find nothing to forget in its cache: it logs
   * that (as upstream does) and nothing else.
   */
  it('two leading schedulers: the API refuses second bindings, so no pod is bound twice', async () => {
    const failures: string[] = [];
    const seedsWithRefusals: number[] = [];
    const overcommitted: string[] = [];
    const expectedError = /scheduler cache refused an event: pod \S+ (wasn't assumed so cannot be forgotten|was assumed on \S+ but assigned to \S+)$/;
    for (const seed of SEEDS) {
      const { sim, errors } = await run(seed, 2);
      const pods = sim.pods();
      failures.push(
        ...describeViolations(seed, [...noPodBoundTwice(sim.history, pods), ...noSchedulablePodLeftPending(sim.nodes(), pods)]),
        ...errors.filter((error) => !expectedError.test(error)).map((error) => `seed ${seed}: ${error}`),
      );
      if (sim.history.refused.some((refused) => refused.message.includes('already assigned'))) seedsWithRefusals.push(seed);
      overcommitted.push(...describeViolations(seed, noNodeOvercommitted(sim.nodes(), pods)));
    }
    expect(failures).toEqual([]);
    if (SEEDS.length >= FULL_RUN) expect(seedsWithRefusals.length).toBeGreaterThan(0);
    console.info(
      `two leaders over ${SEEDS.length} seeds: bindings refused in ${seedsWithRefusals.length} seeds; ` +
        `${overcommitted.length} over-committed node(s)${overcommitted.length > 0 ? `, e.g. ${overcommitted[0]}` : ''}`,
    );
  });
});
