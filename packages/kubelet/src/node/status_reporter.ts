/**
 * Registers nodes and keeps their status in the API, as upstream's kubelet node status loop, for
 * one node or a simulated fleet:
 * - `register` creates (or adopts) the Node, retrying 100 ms doubling up to 7 s until it succeeds or
 *   the reporter stops, and writes the status at once;
 * - then every --node-status-update-frequency (10 s) the status is computed against the Node as
 *   the API has it and written (a strategic merge patch of the status) when it changed — conditions'
 *   heartbeats aside — or when --node-status-report-frequency (5 min) has passed since the last
 *   write. Each node has its own timer, first fired at the offset its caller chooses, so a fleet's
 *   writes spread out.
 * - A condition changing status is told as an Event on the Node (NodeReady, NodeNotReady,
 *   NodeHasSufficientMemory …), as upstream.
 * The Node a kubelet hands its pod workers is `node(name)`: the last one read or written.
 */
import { realClock, sleep, type Clock, type TimerHandle } from '@k8ts/base';
import { isNotFound, type ApiClient, type EventRecorder, type ResourceClient } from '@k8ts/client';
import type { NodeCondition, NodeStatus } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import { nodeStatusChanged, nodeStatusFor, type NodeDescription, type NodeObservation } from './node_status.js';
import { registerNode, type NodeObject } from './registration.js';

export const DEFAULT_NODE_STATUS_UPDATE_FREQUENCY_MS = 10_000;
export const DEFAULT_NODE_STATUS_REPORT_FREQUENCY_MS = 300_000;
const REGISTER_RETRY_FIRST_MS = 100;
const REGISTER_RETRY_MAX_MS = 7_000;

/** A node the reporter keeps: what it registers with, and how to observe it now. */
export interface ReportedNode {
  readonly description: NodeDescription;
  observe(): NodeObservation | Promise<NodeObservation>;
}

export interface NodeStatusReporterOptions {
  readonly client: ApiClient;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly recorder?: EventRecorder;
  readonly updateFrequencyMs?: number;
  readonly reportFrequencyMs?: number;
  /** Where each check reads the Node; default a GET. A fleet may pass an informer's lister. */
  readonly readNode?: (name: string) => NodeObject | undefined | Promise<NodeObject | undefined>;
}

interface Kept {
  readonly source: ReportedNode;
  node: NodeObject | undefined;
  lastReportMs: number;
  timer: TimerHandle | undefined;
  checking: Promise<void> | undefined;
}

const CONDITION_EVENTS: Record<string, { True: string; False: string }> = {
  MemoryPressure: { True: 'NodeHasInsufficientMemory', False: 'NodeHasSufficientMemory' },
  DiskPressure: { True: 'NodeHasDiskPressure', False: 'NodeHasNoDiskPressure' },
  PIDPressure: { True: 'NodeHasInsufficientPID', False: 'NodeHasSufficientPID' },
  Ready: { True: 'NodeReady', False: 'NodeNotReady' },
};

export class NodeStatusReporter {
  private readonly nodes: ResourceClient<NodeObject>;
  private readonly clock: Clock;
  private readonly updateFrequencyMs: number;
  private readonly reportFrequencyMs: number;
  private readonly kept = new Map<string, Kept>();
  private readonly stopping = new AbortController();
  private readonly written = new Set<(node: NodeObject) => void>();

  constructor(private readonly options: NodeStatusReporterOptions) {
    this.nodes = options.client.resource<NodeObject>('', 'v1', 'nodes');
    this.clock = options.clock ?? realClock;
    this.updateFrequencyMs = options.updateFrequencyMs ?? DEFAULT_NODE_STATUS_UPDATE_FREQUENCY_MS;
    this.reportFrequencyMs = options.reportFrequencyMs ?? DEFAULT_NODE_STATUS_REPORT_FREQUENCY_MS;
  }

  /**
   * Registers the node and writes its status, retrying until it succeeds; then checks it every
   * update period, the first check `firstCheckDelayMs` after registering (default: one period).
   * Rejects only when the reporter stops first.
   */
  async register(source: ReportedNode, options: { firstCheckDelayMs?: number } = {}): Promise<NodeObject> {
    const name = source.description.name;
    const kept: Kept = { source, node: undefined, lastReportMs: 0, timer: undefined, checking: undefined };
    this.kept.set(name, kept);
    for (let attempt = 0; ; attempt++) {
      if (this.stopping.signal.aborted || this.kept.get(name) !== kept) throw new Error(`node ${name}: registration stopped`);
      try {
        const { node, created } = await registerNode(this.options.client, source.description, await source.observe(), this.clock.now());
        kept.node = node;
        this.options.logger?.info({ event: created ? 'node-registered' : 'node-adopted', node: name }, created ? 'registered the node' : 'adopted the existing node');
        if (created) {
          kept.lastReportMs = this.clock.now();
          this.recordTransitions(node, undefined, node.status?.conditions);
        }
        break;
      } catch (error) {
        const delayMs = Math.min(REGISTER_RETRY_MAX_MS, REGISTER_RETRY_FIRST_MS * 2 ** attempt);
        this.options.logger?.warn({ err: error, node: name, retryInMs: delayMs }, 'node not registered yet');
        await sleep(this.clock, delayMs, this.stopping.signal);
      }
    }
    await this.check(kept); // an adopted Node gets this kubelet's status at once
    this.schedule(kept, options.firstCheckDelayMs ?? this.updateFrequencyMs);
    return kept.node as NodeObject;
  }

  /** The node's Node as last read or written; undefined before it is registered. */
  node(name: string): NodeObject | undefined {
    return this.kept.get(name)?.node;
  }

  /** Called with the Node after each status write. */
  onWritten(listener: (node: NodeObject) => void): void {
    this.written.add(listener);
  }

  /** Checks the node's status now (after a change the kubelet knows of: images, health). */
  syncNow(name: string): Promise<void> {
    const kept = this.kept.get(name);
    return kept === undefined ? Promise.resolve() : this.check(kept);
  }

  remove(name: string): void {
    this.kept.get(name)?.timer?.cancel();
    this.kept.delete(name);
  }

  /** Stops every timer; a check under way finishes (awaited). */
  async stop(): Promise<void> {
    this.stopping.abort();
    const pending = [...this.kept.values()].map((kept) => kept.checking);
    for (const kept of this.kept.values()) kept.timer?.cancel();
    this.kept.clear();
    await Promise.all(pending);
  }

  get size(): number {
    return this.kept.size;
  }

  private schedule(kept: Kept, delayMs: number): void {
    if (this.stopping.signal.aborted || this.kept.get(kept.source.description.name) !== kept) return;
    kept.timer = this.clock.schedule(delayMs, () => {
      this.check(kept)
        .catch(() => undefined) // check logs its own failures
        .finally(() => this.schedule(kept, this.updateFrequencyMs))
        .catch(() => undefined);
    });
  }

  /** One check; concurrent calls share the one under way. */
  private check(kept: Kept): Promise<void> {
    kept.checking ??= this.checkOnce(kept)
      .catch((error: unknown) => {
        this.options.logger?.warn({ err: error, node: kept.source.description.name }, 'node status not updated');
      })
      .finally(() => {
        kept.checking = undefined;
      });
    return kept.checking;
  }

  private async checkOnce(kept: Kept): Promise<void> {
    const name = kept.source.description.name;
    const current = await this.read(name);
    if (current === undefined) {
      // Deleted under us: upstream's kubelet registers again only when it restarts; we log it.
      this.options.logger?.warn({ node: name }, 'the Node is gone');
      return;
    }
    kept.node = current;
    const nowMs = this.clock.now();
    const status = nodeStatusFor(current.status, await kept.source.observe(), nowMs);
    if (!nodeStatusChanged(current.status, status) && nowMs - kept.lastReportMs < this.reportFrequencyMs) return;
    const written = await this.nodes.patch(name, 'strategic', { status: patchableStatus(status) }, { status: true });
    kept.lastReportMs = nowMs;
    kept.node = written;
    this.recordTransitions(written, current.status?.conditions, written.status?.conditions);
    for (const listener of this.written) listener(written);
  }

  private async read(name: string): Promise<NodeObject | undefined> {
    if (this.options.readNode !== undefined) return this.options.readNode(name);
    try {
      return await this.nodes.get(name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private recordTransitions(node: NodeObject, before: readonly NodeCondition[] | undefined, after: readonly NodeCondition[] | undefined): void {
    const recorder = this.options.recorder;
    if (recorder === undefined) return;
    for (const condition of after ?? []) {
      const events = CONDITION_EVENTS[condition.type];
      if (events === undefined || (condition.status !== 'True' && condition.status !== 'False')) continue;
      if (before?.find((c) => c.type === condition.type)?.status === condition.status) continue;
      const reason = events[condition.status];
      const involved = { ...node, metadata: { ...node.metadata, uid: node.metadata?.name ?? '' } }; // upstream names nodes' events by name
      recorder.event(involved, 'Normal', reason, `Node ${node.metadata?.name ?? ''} status is now: ${reason}`);
    }
  }
}

/** The fields the kubelet owns in a status patch (not phase or volumes, which are others'). */
function patchableStatus(status: NodeStatus): NodeStatus {
  const owned: NodeStatus = {};
  for (const key of ['capacity', 'allocatable', 'conditions', 'addresses', 'daemonEndpoints', 'nodeInfo', 'images'] as const) {
    if (status[key] !== undefined) Object.assign(owned, { [key]: status[key] });
  }
  return owned;
}
