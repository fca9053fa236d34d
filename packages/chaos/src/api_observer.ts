import { integerValue, milliValue, tryParseQuantity } from '@k8ts/apimachinery';
import { SharedInformer, type ApiClient, type KubeObject } from '@k8ts/client';
import type { Node, Pod, Toleration } from 'kubernetes-types/core/v1.js';
import type { NodeLoadSample, PlacementSample, PodRequests } from './node_checks.js';
import type { PodReadinessObservation } from './service_checks.js';

/**
 * What the checks need from the API, watched for the whole run: every pod (its requests, kept after
 * it is gone, for the over-commit check; the run's own pods' readiness as each change was seen) and
 * every Node (allocatable, NoExecute taints). API times become the run's clock through
 * `epochAtStartMs` (Date.now() when the run's clock read 0): the pods' and Nodes' timestamps come
 * from the same host clock.
 */

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';

type PodObject = Pod & KubeObject;
type NodeObject = Node & KubeObject;

export class ApiObserver {
  readonly readiness: PodReadinessObservation[] = [];
  private readonly pods: SharedInformer<PodObject>;
  private readonly nodes: SharedInformer<NodeObject>;
  /** `namespace/name` → requests, for every pod ever seen (a deleted pod may still run on its node). */
  private readonly requests = new Map<string, PodRequests>();

  constructor(
    client: ApiClient,
    private readonly namespace: string,
    private readonly now: () => number,
    private readonly epochAtStartMs: number,
  ) {
    this.pods = new SharedInformer(client.resource<PodObject>('', 'v1', 'pods'));
    this.nodes = new SharedInformer(client.resource<NodeObject>('', 'v1', 'nodes'));
    this.pods.addEventHandler({
      onAdd: (pod) => this.seen(pod, false),
      onUpdate: (_, pod) => this.seen(pod, false),
      onDelete: (pod) => this.seen(pod, true),
    });
  }

  /** Starts watching; resolves once both caches hold their first list. */
  async start(): Promise<void> {
    this.pods.run();
    this.nodes.run();
    await Promise.all([this.pods.waitForSync(), this.nodes.waitForSync()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.pods.stop(), this.nodes.stop()]);
  }

  /** The Nodes and the run's Deployment pods (by `selector` label) as the API has them now. */
  placement(atMs: number, desired: number, selector: Readonly<Record<string, string>>): PlacementSample {
    const taintOf = new Map<string, { key: string; sinceMs: number }>();
    const nodes = this.nodes.indexer.list().map((node) => {
      const taint = node.spec?.taints?.find((t) => t.effect === 'NoExecute' && (t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY));
      const name = node.metadata?.name ?? '';
      const sinceMs = taint?.timeAdded === undefined ? undefined : this.runMs(taint.timeAdded);
      if (taint !== undefined && sinceMs !== undefined) taintOf.set(name, { key: taint.key, sinceMs });
      return { name, ready: isReady(node.status?.conditions), ...(taint === undefined || sinceMs === undefined ? {} : { noExecuteSinceMs: sinceMs, noExecuteKey: taint.key }) };
    });
    const pods = this.pods.indexer
      .list()
      .filter((pod) => pod.metadata?.namespace === this.namespace && Object.entries(selector).every(([key, value]) => pod.metadata?.labels?.[key] === value))
      .map((pod) => {
        const node = pod.spec?.nodeName;
        const taint = node === undefined ? undefined : taintOf.get(node);
        return {
          name: pod.metadata?.name ?? '',
          ...(node === undefined ? {} : { node }),
          ready: isReady(pod.status?.conditions),
          deleting: pod.metadata?.deletionTimestamp !== undefined,
          ...(taint === undefined ? {} : { toleratesMs: tolerationMs(pod.spec?.tolerations ?? [], taint.key) }),
        };
      });
    return { atMs, desired, nodes, pods };
  }

  /** Each node's running pods (from the nodes' own records) against its allocatable (from the API). */
  nodeLoads(atMs: number, running: readonly { readonly node: string; readonly pod: string }[]): NodeLoadSample {
    const byNode = new Map<string, string[]>();
    for (const node of this.nodes.indexer.list()) byNode.set(node.metadata?.name ?? '', []);
    for (const { node, pod } of running) byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    const nodes = [...byNode].map(([name, pods]) => {
      const node = this.nodes.indexer.list().find((n) => n.metadata?.name === name);
      const allocatable = node?.status?.allocatable as Record<string, string> | undefined;
      return {
        node: name,
        ...(allocatable === undefined ? {} : { allocatable: { milliCpu: bound(allocatable['cpu'], milli), memory: bound(allocatable['memory'], whole), pods: bound(allocatable['pods'], whole) } }),
        pods: pods.map((pod) => {
          const requests = this.requests.get(pod);
          return requests === undefined ? { pod } : { pod, requests };
        }),
      };
    });
    return { atMs, nodes };
  }

  private seen(pod: PodObject, gone: boolean): void {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    if (!this.requests.has(`${namespace}/${name}`)) this.requests.set(`${namespace}/${name}`, podRequests(pod));
    if (namespace !== this.namespace) return;
    const atMs = this.now();
    const deletion = pod.metadata?.deletionTimestamp;
    const ready = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
    if (gone || deletion !== undefined) {
      // deletionTimestamp is when the grace period ends: the deletion was asked for that much earlier.
      const askedMs = deletion === undefined ? undefined : this.runMs(deletion, -(pod.metadata?.deletionGracePeriodSeconds ?? 0) * 1000);
      this.readiness.push({ pod: name, atMs, serving: false, ...(askedMs === undefined ? {} : { sinceMs: askedMs }), ...(gone ? { gone: true } : {}) });
      return;
    }
    const sinceMs = ready?.lastTransitionTime === undefined ? undefined : this.runMs(ready.lastTransitionTime);
    this.readiness.push({ pod: name, atMs, serving: ready?.status === 'True', ...(sinceMs === undefined ? {} : { sinceMs }) });
  }

  private runMs(time: string, offsetMs = 0): number | undefined {
    const epochMs = Date.parse(time);
    return Number.isNaN(epochMs) ? undefined : epochMs + offsetMs - this.epochAtStartMs;
  }
}

function isReady(conditions: readonly { type: string; status: string }[] | undefined): boolean {
  return conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

/**
 * How long a pod stays on a node tainted `key` NoExecute, as upstream's taint manager reads its
 * tolerations: none matching, 0 (evicted at once); the least tolerationSeconds among the matching
 * ones; matching ones without tolerationSeconds only: Infinity (forever).
 */
export function tolerationMs(tolerations: readonly Toleration[], key: string): number {
  const matching = tolerations.filter(
    (toleration) =>
      (toleration.effect === undefined || toleration.effect === '' || toleration.effect === 'NoExecute') &&
      ((toleration.key === undefined || toleration.key === '') && toleration.operator === 'Exists' ? true : toleration.key === key),
  );
  if (matching.length === 0) return 0;
  const bounded = matching.flatMap((toleration) => (toleration.tolerationSeconds === undefined ? [] : [Math.max(0, toleration.tolerationSeconds) * 1000]));
  return bounded.length === 0 ? Infinity : Math.min(...bounded);
}

/** What a pod asks of its node: its containers' requests summed, raised to its largest init container's, plus overhead. */
export function podRequests(pod: Pod): PodRequests {
  const of = (list: Record<string, unknown> | undefined): PodRequests => ({ milliCpu: milli(list?.['cpu']), memory: whole(list?.['memory']) });
  const sum = (all: readonly PodRequests[]): PodRequests => all.reduce((total, r) => ({ milliCpu: total.milliCpu + r.milliCpu, memory: total.memory + r.memory }), { milliCpu: 0, memory: 0 });
  const containers = sum((pod.spec?.containers ?? []).map((container) => of(container.resources?.requests as Record<string, unknown> | undefined)));
  const init = (pod.spec?.initContainers ?? []).map((container) => of(container.resources?.requests as Record<string, unknown> | undefined));
  const overhead = of(pod.spec?.overhead as Record<string, unknown> | undefined);
  return {
    milliCpu: Math.max(containers.milliCpu, ...init.map((r) => r.milliCpu)) + overhead.milliCpu,
    memory: Math.max(containers.memory, ...init.map((r) => r.memory)) + overhead.memory,
  };
}

/** An allocatable amount; one the Node does not state is no limit. */
function bound(value: unknown, parse: (value: unknown) => number): number {
  return value === undefined ? Infinity : parse(value);
}

function milli(value: unknown): number {
  const quantity = tryParseQuantity(value);
  return quantity === undefined ? 0 : milliValue(quantity);
}

function whole(value: unknown): number {
  const quantity = tryParseQuantity(value);
  return quantity === undefined ? 0 : integerValue(quantity);
}
