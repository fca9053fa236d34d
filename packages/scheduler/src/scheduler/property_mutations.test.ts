/**
 * The property test has teeth: each test here breaks the scheduler on purpose, through its own
 * extension points (a KubeSchedulerConfiguration that disables a Filter plugin, out-of-tree Filter
 * and Bind plugins, the cache it is given), runs the property harness over seeds 1, 2, … until a checker
 * objects, and asserts that it objects within MAX_SEEDS, for the rule that was broken, and that the
 * same seed passes with the scheduler left whole (so the objection is the mutation's doing).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { SchedulerCache } from '../cache/cache.js';
import type { CycleState } from '../framework/cycle_state.js';
import type { BindPlugin, FilterPlugin } from '../framework/interfaces.js';
import type { NodeInfo } from '../framework/node_info.js';
import { Status } from '../framework/status.js';
import type { Violation } from '../testing/invariants.js';
import { describeViolations, oneSchedulerViolations, propertyRun, type SchedulerOverrides } from '../testing/property_run.js';
import type { ClusterWriter } from './cluster_writer.js';
import { parseSchedulerConfiguration, type SchedulerConfiguration } from './configuration.js';

const MAX_SEEDS = 200;

/** A configuration whose only profile has these plugins (YAML under `plugins:`), as a user would write it. */
function configurationWithPlugins(plugins: string): SchedulerConfiguration {
  const indented = plugins.trim().replace(/^/gm, '      ');
  return parseSchedulerConfiguration(`apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n  - plugins:\n${indented}\n`);
}

/** Mutation: resources are never checked (the NodeResourcesFit filter is off, so every node passes it). */
const skipResourceFit: SchedulerOverrides = () => ({ configuration: configurationWithPlugins('filter:\n  disabled: [{name: NodeResourcesFit}]') });

/** Mutation: taints are ignored (the TaintToleration filter is off). */
const ignoreTaints: SchedulerOverrides = () => ({ configuration: configurationWithPlugins('filter:\n  disabled: [{name: TaintToleration}]') });

/**
 * Mutation: a taint filter that refuses too much, treating every NoSchedule taint as untolerated (in
 * place of TaintToleration's filter). Pods that only a tainted node they tolerate can take stay
 * pending. A checker that asked the scheduler's own filter would share such a bug; this one has its
 * own rules.
 */
class RefuseTaintedNodes implements FilterPlugin {
  static readonly NAME = 'RefuseTaintedNodes';
  readonly name = RefuseTaintedNodes.NAME;
  filter(_state: CycleState, _pod: Pod, nodeInfo: NodeInfo): Status {
    const tainted = (nodeInfo.node?.spec?.taints ?? []).some((taint) => taint.effect === 'NoSchedule');
    return tainted ? Status.unresolvable('node(s) had a NoSchedule taint') : Status.success();
  }
}
const refuseToleratedTaints: SchedulerOverrides = () => ({
  configuration: configurationWithPlugins(`filter:\n  enabled: [{name: ${RefuseTaintedNodes.NAME}}]\n  disabled: [{name: TaintToleration}]`),
  registry: new Map([[RefuseTaintedNodes.NAME, () => new RefuseTaintedNodes()]]),
});

/**
 * Mutation: binding without the cache's assume. The chosen pod is not counted on its node until the
 * informer reports it bound, so the cycles in between see its room as free.
 */
class CacheThatNeverAssumes extends SchedulerCache {
  override assumePod(_pod: Pod): void {}
  // Nothing was assumed, so a failed binding has nothing to forget.
  override forgetPod(_pod: Pod): void {}
}
const bindWithoutAssume: SchedulerOverrides = ({ clock }) => ({ cache: new CacheThatNeverAssumes({ clock }) });

/**
 * Mutation: a binder that sends every binding twice, as if it retried a write whose answer it lost,
 * and ignores the second answer. The API refuses the second (409), so the cluster's state never shows
 * it: only the attempts do.
 */
class BindTwice implements BindPlugin {
  static readonly NAME = 'BindTwice';
  readonly name = BindTwice.NAME;
  constructor(private readonly writer: ClusterWriter) {}
  async bind(_state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    try {
      await this.writer.bind(pod, nodeName);
    } catch (error) {
      return Status.error(`binding rejected: ${error instanceof Error ? error.message : String(error)}`);
    }
    await this.writer.bind(pod, nodeName).catch(() => {});
    return Status.success();
  }
}
const bindTwice: SchedulerOverrides = ({ writer }) => ({
  configuration: configurationWithPlugins(`bind:\n  enabled: [{name: ${BindTwice.NAME}}]\n  disabled: [{name: DefaultBinder}]`),
  registry: new Map([[BindTwice.NAME, () => new BindTwice(writer)]]),
});

interface Caught {
  seed: number;
  violations: Violation[];
}

/** The first seed whose run with `overrides` breaks an invariant, within MAX_SEEDS. */
async function firstCaught(overrides: SchedulerOverrides): Promise<Caught | undefined> {
  for (let seed = 1; seed <= MAX_SEEDS; seed++) {
    const violations = oneSchedulerViolations(await propertyRun(seed, { overrides }));
    if (violations.length > 0) return { seed, violations };
  }
  return undefined;
}

describe('the property checks catch a broken scheduler', () => {
  it.each([
    { mutation: 'skipping the resource fit check', overrides: skipResourceFit, invariants: ['noNodeOvercommitted'] },
    { mutation: 'ignoring taints', overrides: ignoreTaints, invariants: ['noPodOnForbiddenNode'] },
    { mutation: 'refusing tolerated taints', overrides: refuseToleratedTaints, invariants: ['noSchedulablePodLeftPending'] },
    // A pod placed in room another pod's binding already took: too little room, or a neighbour it may not have.
    { mutation: "binding without the cache's assume", overrides: bindWithoutAssume, invariants: ['noNodeOvercommitted', 'noPodsClashing'] },
    { mutation: 'binding twice', overrides: bindTwice, invariants: ['noPodBoundTwice'] },
  ])(`$mutation: caught by $invariants within ${MAX_SEEDS} seeds`, async ({ mutation, overrides, invariants }) => {
    const caught = await firstCaught(overrides);
    expect(caught, `${mutation}: no violation in seeds 1-${MAX_SEEDS}`).toBeDefined();
    const { seed, violations } = caught!;
    console.info(`${mutation}: caught at seed ${seed} (${violations.length} violation(s)), e.g. ${describeViolations(seed, violations)[0]}`);
    expect(violations.filter((violation) => !invariants.includes(violation.invariant))).toEqual([]);

    const whole = await propertyRun(seed);
    expect(describeViolations(seed, oneSchedulerViolations(whole))).toEqual([]);
    expect(whole.errors).toEqual([]);
  });

  it('binding twice is seen in the attempts although the API kept every pod bound once', async () => {
    const { sim } = await propertyRun(1, { overrides: bindTwice });
    const accepted = sim.history.bindings.map((binding) => binding.uid);
    expect(accepted.length).toBeGreaterThan(0);
    expect(new Set(accepted).size).toBe(accepted.length);
    expect(sim.history.refused.map((refused) => refused.reason)).toContain('Conflict');
    expect(oneSchedulerViolations({ seed: 1, sim, errors: [] }).map((violation) => violation.invariant)).toContain('noPodBoundTwice');
  });
});
