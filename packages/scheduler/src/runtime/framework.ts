/**
 * The framework of one profile (kube's frameworkImpl): builds the profile's plugins once from the
 * registry, places each at the extension points it implements, and runs those points for the
 * scheduling cycle. It is also the Handle plugins get, passing I/O and lookups to the driver's deps.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState, StateData } from '../framework/cycle_state.js';
import {
  MAX_NODE_SCORE,
  MIN_NODE_SCORE,
  podPriority,
  type BindPlugin,
  type ClusterEvent,
  type EnqueueExtensions,
  type FilterPlugin,
  type Handle,
  type NodeInfoLister,
  type NodeScore,
  type NodeToStatus,
  type PermitPlugin,
  type Plugin,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type ReservePlugin,
  type ScorePlugin,
} from '../framework/interfaces.js';
import { samePod, type NodeInfo, type PodInfo } from '../framework/node_info.js';
import { Code, Status } from '../framework/status.js';
import { implementsPoint, instantiatePlugins, pluginsAt, scoreWeights } from './placement.js';
import type { ExtensionPoint, Profile } from './profile.js';
import type { Registry } from './registry.js';

/** What the driver gives the framework to hand on to plugins. */
export interface FrameworkHandleDeps {
  /** The snapshot of the current cycle (updated by the driver before each cycle). */
  snapshot(): NodeInfoLister;
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
  evictPod(victim: Pod, preemptor: Pod): Promise<void>;
  nominatedPodsForNode(nodeName: string): readonly PodInfo[];
}

export interface PreFilterOutcome {
  /** The intersection of the plugins' results; undefined = every node. */
  result: PreFilterResult | undefined;
  status: Status;
  /** Plugins whose result narrowed the nodes: whom to blame when no node is left. */
  narrowedBy: Set<string>;
}

export interface PostFilterOutcome {
  result?: PostFilterResult;
  status: Status;
}

export interface PermitOutcome {
  /** Success, Wait (see waitTimeoutsMs), a rejection or an Error. */
  status: Status;
  /** For Wait: how long each waiting plugin allows, capped at 15 minutes. */
  waitTimeoutsMs: Map<string, number>;
}

export interface ScoreOutcome {
  /** Weighted sum of normalized scores, by index in the nodes given. */
  totals: Float64Array;
  status: Status;
}

/** Upstream's cap on how long a Permit plugin may hold a pod. */
export const MAX_PERMIT_TIMEOUT_MS = 15 * 60 * 1000;

/** What a plugin that rejects pods but lists no events is requeued on: everything. */
export const ALL_CLUSTER_EVENTS: readonly ClusterEvent[] = Object.freeze(
  (['Pod', 'Node'] as const).flatMap((resource) => (['Add', 'Update', 'Delete'] as const).map((action) => ({ resource, action }))),
);

/** Points whose plugins can reject a pod, and so say which events may undo that (upstream's list). */
const REJECTING_POINTS: readonly ExtensionPoint[] = ['preFilter', 'filter', 'reserve', 'permit'];

const ACTIVE_FILTERS_KEY = 'k8ts.io/runtime/activeFilterPlugins';
const ACTIVE_SCORES_KEY = 'k8ts.io/runtime/activeScorePlugins';

/** The plugins of a point that did not Skip this cycle; never changes, so clones share it. */
class ActivePlugins<T extends Plugin> implements StateData {
  constructor(
    readonly plugins: readonly T[],
    readonly skipped: ReadonlySet<string>,
  ) {}
  clone(): StateData {
    return this;
  }
}

function withoutSkipped<T extends Plugin>(plugins: readonly T[], skipped: ReadonlySet<string>): ActivePlugins<T> {
  return new ActivePlugins(skipped.size === 0 ? plugins : plugins.filter((plugin) => !skipped.has(plugin.name)), skipped);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Framework implements Handle {
  readonly profileName: string;
  readonly percentageOfNodesToScore: number | undefined;
  private readonly plugins: ReadonlyMap<string, Plugin>;
  private readonly preFilterPlugins: PreFilterPlugin[];
  private readonly filterPlugins: FilterPlugin[];
  private readonly postFilterPlugins: PostFilterPlugin[];
  private readonly preScorePlugins: PreScorePlugin[];
  private readonly scorePlugins: ScorePlugin[];
  private readonly reservePlugins: ReservePlugin[];
  private readonly permitPlugins: PermitPlugin[];
  private readonly bindPlugins: BindPlugin[];
  private readonly weights: ReadonlyMap<string, number>;
  /** Reused NodeScore objects per Score plugin, so scoring allocates no object per node. */
  private readonly scorePools = new Map<string, NodeScore[]>();

  constructor(
    profile: Profile,
    registry: Registry,
    private readonly deps: FrameworkHandleDeps,
  ) {
    this.profileName = profile.schedulerName;
    const percentage = profile.percentageOfNodesToScore;
    if (percentage !== undefined && !(Number.isInteger(percentage) && percentage >= 0 && percentage <= 100)) {
      throw new Error(`percentageOfNodesToScore ${percentage} is not in the valid range [0-100]`);
    }
    this.percentageOfNodesToScore = percentage;
    const plugins = instantiatePlugins(profile, registry, this);
    this.plugins = plugins;
    this.preFilterPlugins = pluginsAt(profile, plugins, 'preFilter') as PreFilterPlugin[];
    this.filterPlugins = pluginsAt(profile, plugins, 'filter') as FilterPlugin[];
    this.postFilterPlugins = pluginsAt(profile, plugins, 'postFilter') as PostFilterPlugin[];
    this.preScorePlugins = pluginsAt(profile, plugins, 'preScore') as PreScorePlugin[];
    this.scorePlugins = pluginsAt(profile, plugins, 'score') as ScorePlugin[];
    this.reservePlugins = pluginsAt(profile, plugins, 'reserve') as ReservePlugin[];
    this.permitPlugins = pluginsAt(profile, plugins, 'permit') as PermitPlugin[];
    this.bindPlugins = pluginsAt(profile, plugins, 'bind') as BindPlugin[];
    if (this.bindPlugins.length === 0) {
      throw new Error(`at least one bind plugin is needed for profile with scheduler name "${this.profileName}"`);
    }
    this.weights = scoreWeights(profile, plugins);
  }

  // ---- Handle ----

  snapshot(): NodeInfoLister {
    return this.deps.snapshot();
  }
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.deps.namespaceLabels(namespace);
  }
  evictPod(victim: Pod, preemptor: Pod): Promise<void> {
    return this.deps.evictPod(victim, preemptor);
  }
  nominatedPodsForNode(nodeName: string): readonly PodInfo[] {
    return this.deps.nominatedPodsForNode(nodeName);
  }

  // ---- what the profile holds ----

  hasFilterPlugins(): boolean {
    return this.filterPlugins.length > 0;
  }
  hasPostFilterPlugins(): boolean {
    return this.postFilterPlugins.length > 0;
  }
  hasScorePlugins(): boolean {
    return this.scorePlugins.length > 0;
  }
  /** Plugin names per extension point, in the order they run. */
  listPlugins(): Record<ExtensionPoint, string[]> {
    const names = (plugins: readonly Plugin[]): string[] => plugins.map((plugin) => plugin.name);
    return {
      preFilter: names(this.preFilterPlugins),
      filter: names(this.filterPlugins),
      postFilter: names(this.postFilterPlugins),
      preScore: names(this.preScorePlugins),
      score: names(this.scorePlugins),
      reserve: names(this.reservePlugins),
      permit: names(this.permitPlugins),
      bind: names(this.bindPlugins),
    };
  }
  scoreWeight(pluginName: string): number | undefined {
    return this.weights.get(pluginName);
  }
  plugin(name: string): Plugin | undefined {
    return this.plugins.get(name);
  }

  /**
   * The cluster events that may make a pod rejected by each plugin schedulable. Plugins that can
   * reject (PreFilter, Filter, Reserve, Permit) but do not say get every event, as upstream does.
   */
  eventsToRegister(): Map<string, ClusterEvent[]> {
    const events = new Map<string, ClusterEvent[]>();
    for (const [name, plugin] of this.plugins) {
      if (!REJECTING_POINTS.some((point) => implementsPoint(plugin, point))) continue;
      const extensions = plugin as Partial<EnqueueExtensions>;
      events.set(name, typeof extensions.eventsToRegister === 'function' ? extensions.eventsToRegister() : [...ALL_CLUSTER_EVENTS]);
    }
    return events;
  }

  // ---- PreFilter ----

  /**
   * Runs every PreFilter plugin. UnschedulableAndUnresolvable stops at once (preemption cannot help);
   * Unschedulable lets the others run so preemption has their state. Results intersect; an empty
   * intersection rejects the pod. Plugins that Skip have their Filter and PreFilterExtensions skipped.
   */
  runPreFilterPlugins(state: CycleState, pod: Pod): PreFilterOutcome {
    const nodes = this.deps.snapshot().list();
    const skipped = new Set<string>();
    const narrowedBy = new Set<string>();
    let result: PreFilterResult | undefined;
    let rejection: Status | undefined;
    try {
      for (const plugin of this.preFilterPlugins) {
        const { result: pluginResult, status } = plugin.preFilter(state, pod, nodes);
        if (status.isSkip()) {
          skipped.add(plugin.name);
          continue;
        }
        if (!status.isSuccess()) {
          status.withPlugin(plugin.name);
          if (status.code === Code.UnschedulableAndUnresolvable) return { result: undefined, status, narrowedBy: new Set() };
          if (status.code === Code.Unschedulable) {
            rejection = status;
            continue;
          }
          const error = Status.error(`running PreFilter plugin "${plugin.name}": ${status.message()}`).withPlugin(plugin.name);
          return { result: undefined, status: error, narrowedBy: new Set() };
        }
        if (pluginResult?.nodeNames === undefined) continue;
        narrowedBy.add(plugin.name);
        result = { nodeNames: intersect(result?.nodeNames, pluginResult.nodeNames) };
        if (result.nodeNames?.size === 0) return { result, status: Status.unresolvable(noNodeLeftMessage(narrowedBy)), narrowedBy };
      }
      return { result, status: rejection ?? Status.success(), narrowedBy };
    } finally {
      state.write(ACTIVE_FILTERS_KEY, withoutSkipped(this.filterPlugins, skipped));
    }
  }

  runPreFilterExtensionAddPod(state: CycleState, podToSchedule: Pod, podInfoToAdd: PodInfo, nodeInfo: NodeInfo): Status {
    return this.runPreFilterExtensions(state, 'AddPod', (extensions) => extensions.addPod(state, podToSchedule, podInfoToAdd, nodeInfo));
  }

  runPreFilterExtensionRemovePod(state: CycleState, podToSchedule: Pod, podInfoToRemove: PodInfo, nodeInfo: NodeInfo): Status {
    return this.runPreFilterExtensions(state, 'RemovePod', (extensions) => extensions.removePod(state, podToSchedule, podInfoToRemove, nodeInfo));
  }

  private runPreFilterExtensions(
    state: CycleState,
    operation: string,
    call: (extensions: NonNullable<ReturnType<NonNullable<PreFilterPlugin['preFilterExtensions']>>>) => Status,
  ): Status {
    const skipped = state.read<ActivePlugins<FilterPlugin>>(ACTIVE_FILTERS_KEY)?.skipped;
    for (const plugin of this.preFilterPlugins) {
      const extensions = plugin.preFilterExtensions?.();
      if (extensions === undefined || skipped?.has(plugin.name)) continue;
      const status = call(extensions);
      if (!status.isSuccess()) {
        return Status.error(`running ${operation} on PreFilter plugin "${plugin.name}": ${status.message()}`).withPlugin(plugin.name);
      }
    }
    return Status.success();
  }

  // ---- Filter ----

  /** Runs the Filter plugins on one node; the first that does not pass decides (status.plugin names it). */
  runFilterPlugins(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const filters = state.read<ActivePlugins<FilterPlugin>>(ACTIVE_FILTERS_KEY)?.plugins ?? this.filterPlugins;
    for (let i = 0; i < filters.length; i++) {
      const plugin = filters[i]!;
      const status = plugin.filter(state, pod, nodeInfo);
      if (status.code === Code.Success) continue;
      if (status.isRejected()) return status.withPlugin(plugin.name);
      return Status.error(`running "${plugin.name}" filter plugin: ${status.message()}`).withPlugin(plugin.name);
    }
    return Status.success();
  }

  /**
   * Filters a node as the scheduling cycle does: with the pods nominated to it at equal or higher
   * priority counted as present, and, if that passes, again without them (affinity may need them
   * absent). Nominees were promised the room first; both views must accept the pod.
   */
  runFilterPluginsWithNominatedPods(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const nominated = this.deps.nominatedPodsForNode(nodeInfo.name);
    if (nominated.length === 0) return this.runFilterPlugins(state, pod, nodeInfo);
    const withNominees = this.addNominatedPods(state, pod, nodeInfo, nominated);
    if (withNominees instanceof Status) return withNominees;
    if (withNominees === undefined) return this.runFilterPlugins(state, pod, nodeInfo);
    const status = this.runFilterPlugins(withNominees.state, pod, withNominees.nodeInfo);
    if (!status.isSuccess()) return status;
    return this.runFilterPlugins(state, pod, nodeInfo);
  }

  private addNominatedPods(
    state: CycleState,
    pod: Pod,
    nodeInfo: NodeInfo,
    nominated: readonly PodInfo[],
  ): { state: CycleState; nodeInfo: NodeInfo } | Status | undefined {
    const priority = podPriority(pod);
    let copy: { state: CycleState; nodeInfo: NodeInfo } | undefined;
    for (const info of nominated) {
      if (podPriority(info.pod) < priority || samePod(info.pod, pod)) continue;
      copy ??= { state: state.clone(), nodeInfo: nodeInfo.clone() };
      copy.nodeInfo.addPodInfo(info);
      const status = this.runPreFilterExtensionAddPod(copy.state, pod, info, copy.nodeInfo);
      if (!status.isSuccess()) return Status.error(status.message());
    }
    return copy;
  }

  // ---- PostFilter ----

  /**
   * Runs PostFilter plugins (preemption) until one succeeds, fails hard or says nothing can help;
   * otherwise the result is Unschedulable with every plugin's reasons and the last nomination made.
   */
  async runPostFilterPlugins(state: CycleState, pod: Pod, filteredNodeStatus: NodeToStatus): Promise<PostFilterOutcome> {
    let result: PostFilterResult | undefined;
    const reasons: string[] = [];
    let rejector: string | undefined;
    for (const plugin of this.postFilterPlugins) {
      let outcome: PostFilterOutcome;
      try {
        outcome = await plugin.postFilter(state, pod, filteredNodeStatus);
      } catch (error) {
        return { status: Status.error(errorMessage(error)).withPlugin(plugin.name) };
      }
      const { status } = outcome;
      if (status.isSuccess()) return outcome;
      if (status.code === Code.UnschedulableAndUnresolvable) return { ...outcome, status: status.withPlugin(plugin.name) };
      if (!status.isRejected()) return { status: Status.error(status.message()).withPlugin(plugin.name) };
      if (outcome.result !== undefined) result = outcome.result;
      reasons.push(...status.reasons);
      rejector ??= plugin.name;
    }
    const status = new Status(Code.Unschedulable, reasons, rejector);
    return result === undefined ? { status } : { result, status };
  }

  // ---- PreScore and Score ----

  /** Runs PreScore plugins with the feasible nodes; those that Skip are not asked to Score. */
  runPreScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): Status {
    const skipped = new Set<string>();
    try {
      for (const plugin of this.preScorePlugins) {
        const status = plugin.preScore(state, pod, nodes);
        if (status.isSkip()) {
          skipped.add(plugin.name);
          continue;
        }
        if (!status.isSuccess()) {
          return Status.error(`running PreScore plugin "${plugin.name}": ${status.message()}`).withPlugin(plugin.name);
        }
      }
      return Status.success();
    } finally {
      state.write(ACTIVE_SCORES_KEY, withoutSkipped(this.scorePlugins, skipped));
    }
  }

  /**
   * Scores every node with every Score plugin, normalizes each plugin's scores, checks they lie in
   * [MIN_NODE_SCORE, MAX_NODE_SCORE], and sums them times the plugin's weight per node.
   */
  runScorePlugins(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): ScoreOutcome {
    const plugins = state.read<ActivePlugins<ScorePlugin>>(ACTIVE_SCORES_KEY)?.plugins ?? this.scorePlugins;
    const totals = new Float64Array(nodes.length);
    const lists: NodeScore[][] = [];
    for (const plugin of plugins) {
      const scores = this.scoreList(plugin.name, nodes);
      for (let i = 0; i < nodes.length; i++) {
        const { score, status } = plugin.score(state, pod, nodes[i]!);
        if (!status.isSuccess()) return this.scoreFailure(totals, `running Score plugins: plugin "${plugin.name}" failed with: ${status.message()}`, plugin);
        scores[i]!.score = score;
      }
      lists.push(scores);
    }
    for (let p = 0; p < plugins.length; p++) {
      const plugin = plugins[p]!;
      const status = plugin.scoreExtensions?.()?.normalizeScore(state, pod, lists[p]!);
      if (status !== undefined && !status.isSuccess()) {
        return this.scoreFailure(totals, `running Normalize on Score plugins: plugin "${plugin.name}" failed with: ${status.message()}`, plugin);
      }
    }
    for (let p = 0; p < plugins.length; p++) {
      const plugin = plugins[p]!;
      const scores = lists[p]!;
      const weight = this.weights.get(plugin.name) ?? 1;
      for (let i = 0; i < nodes.length; i++) {
        const score = scores[i]!.score;
        if (!(score >= MIN_NODE_SCORE && score <= MAX_NODE_SCORE)) {
          const message = `plugin "${plugin.name}" returns an invalid score ${score}, it should in the range of [${MIN_NODE_SCORE}, ${MAX_NODE_SCORE}] after normalizing`;
          return this.scoreFailure(totals, `applying score defaultWeights on Score plugins: ${message}`, plugin);
        }
        totals[i]! += score * weight;
      }
    }
    return { totals, status: Status.success() };
  }

  /** A fresh list over pooled NodeScore objects, one per node, score 0. */
  private scoreList(pluginName: string, nodes: readonly NodeInfo[]): NodeScore[] {
    let pool = this.scorePools.get(pluginName);
    if (pool === undefined) this.scorePools.set(pluginName, (pool = []));
    while (pool.length < nodes.length) pool.push({ name: '', score: 0 });
    const list = pool.slice(0, nodes.length);
    for (let i = 0; i < list.length; i++) {
      const entry = list[i]!;
      entry.name = nodes[i]!.name;
      entry.score = 0;
    }
    return list;
  }

  private scoreFailure(totals: Float64Array, message: string, plugin: Plugin): ScoreOutcome {
    return { totals, status: Status.error(message).withPlugin(plugin.name) };
  }

  // ---- Reserve, Permit, Bind ----

  /** Reserve in order; the first failure stops (the caller then runs Unreserve). */
  runReservePluginsReserve(state: CycleState, pod: Pod, nodeName: string): Status {
    for (const plugin of this.reservePlugins) {
      const status = plugin.reserve(state, pod, nodeName);
      if (status.isSuccess()) continue;
      if (status.isRejected()) return status.withPlugin(plugin.name);
      return Status.error(`running Reserve plugin "${plugin.name}": ${status.message()}`).withPlugin(plugin.name);
    }
    return Status.success();
  }

  /** Unreserve in reverse order of Reserve, on every Reserve plugin (Unreserve is idempotent). */
  runReservePluginsUnreserve(state: CycleState, pod: Pod, nodeName: string): void {
    for (let i = this.reservePlugins.length - 1; i >= 0; i--) this.reservePlugins[i]!.unreserve(state, pod, nodeName);
  }

  /** Permit: any rejection or error stops; otherwise Wait if any plugin waits, with its timeout. */
  runPermitPlugins(state: CycleState, pod: Pod, nodeName: string): PermitOutcome {
    const waitTimeoutsMs = new Map<string, number>();
    for (const plugin of this.permitPlugins) {
      const { status, timeoutMs } = plugin.permit(state, pod, nodeName);
      if (status.isSuccess()) continue;
      if (status.isRejected()) return { status: status.withPlugin(plugin.name), waitTimeoutsMs: new Map() };
      if (status.code === Code.Wait) {
        waitTimeoutsMs.set(plugin.name, Math.min(timeoutMs, MAX_PERMIT_TIMEOUT_MS));
        continue;
      }
      const error = Status.error(`running Permit plugin "${plugin.name}": ${status.message()}`).withPlugin(plugin.name);
      return { status: error, waitTimeoutsMs: new Map() };
    }
    if (waitTimeoutsMs.size === 0) return { status: Status.success(), waitTimeoutsMs };
    const message = `one or more plugins asked to wait and no plugin rejected pod "${pod.metadata?.name ?? ''}"`;
    return { status: new Status(Code.Wait, [message]), waitTimeoutsMs };
  }

  /** Bind plugins in order until one does not Skip; its status is the outcome. */
  async runBindPlugins(state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    let status = Status.skip();
    for (const plugin of this.bindPlugins) {
      try {
        status = await plugin.bind(state, pod, nodeName);
      } catch (error) {
        return Status.error(`running Bind plugin "${plugin.name}": ${errorMessage(error)}`).withPlugin(plugin.name);
      }
      if (status.isSkip()) continue;
      if (status.isSuccess()) return status;
      if (status.isRejected()) return status.withPlugin(plugin.name);
      return Status.error(`running Bind plugin "${plugin.name}": ${status.message()}`).withPlugin(plugin.name);
    }
    return status;
  }
}

function intersect(current: ReadonlySet<string> | undefined, next: ReadonlySet<string>): ReadonlySet<string> {
  if (current === undefined) return next;
  const [small, large] = current.size <= next.size ? [current, next] : [next, current];
  const both = new Set<string>();
  for (const name of small) if (large.has(name)) both.add(name);
  return both;
}

/** Upstream's wording when PreFilter results leave no node in common. */
function noNodeLeftMessage(narrowedBy: ReadonlySet<string>): string {
  const names = [...narrowedBy].sort();
  if (names.length === 1) return `node(s) didn't satisfy plugin ${names[0]}`;
  return `node(s) didn't satisfy plugin(s) [${names.join(' ')}] simultaneously`;
}
