/**
 * The node IPAM controller with the range allocator (upstream pkg/controller/nodeipam, on with
 * --allocate-node-cidrs): every node without spec.podCIDR gets spec.podCIDR and spec.podCIDRs, one
 * CIDR per --cluster-cidr.
 *
 * - At start, once the node cache has synced, every CIDR nodes carry is marked taken before any
 *   node is given one, so a restarted or failed-over manager never hands one out twice.
 * - A node's CIDRs are reserved in memory before the write and kept for that node until the write
 *   is seen or refused: a retried write asks for the same CIDRs. The API refuses changing a
 *   podCIDR once set, so two managers can never both set a node's.
 * - A deleted node's CIDRs are freed, and nodes waiting for one are tried again.
 * - A full range: a CIDRNotAvailable event on the node, which waits for a CIDR to be freed.
 */
import { isNotFound, type EventRecorder, type Lister, type RateLimitingQueue, type ResourceClient } from '@k8ts/client';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { runWorkers } from '../framework/run_workers.js';
import { formatCidr } from './cidr.js';
import { CidrRangeFullError } from './cidr_set.js';
import { clusterCidrSets } from './cluster_cidrs.js';
import { RangeAllocator } from './range_allocator.js';

export const CIDR_ALLOCATOR_COMPONENT = 'cidrAllocator';

export class NodeIpamController implements Controller {
  private readonly allocator: RangeAllocator | undefined;
  private readonly nodeLister: Lister<Node> | undefined;
  private readonly nodes: ResourceClient<Node>;
  private readonly recorder: EventRecorder;
  private readonly queue: RateLimitingQueue<string>;
  /** Nodes left without a CIDR because the range was full. */
  private readonly waiting = new Set<string>();

  constructor(
    private readonly context: ControllerContext,
    private readonly workers: number,
  ) {
    const { options } = context;
    this.nodes = context.client.resource<Node>('', 'v1', 'nodes');
    this.recorder = context.recorder(CIDR_ALLOCATOR_COMPONENT);
    this.queue = context.newQueue('node_ipam_controller');
    if (!options.allocateNodeCidrs) return; // upstream starts no allocator then
    // A bad --cluster-cidr stops the manager, as it stops kube-controller-manager.
    this.allocator = new RangeAllocator(clusterCidrSets(options.clusterCidr, options.nodeCidrMaskSize));
    const informer = context.informers.informerFor<Node>('', 'v1', 'nodes');
    this.nodeLister = informer.lister();
    const enqueue = (node: Node): void => void this.queue.add(node.metadata?.name ?? '');
    informer.addEventHandler({
      onAdd: enqueue,
      onUpdate: (old, node) => {
        if ((node.spec?.podCIDRs ?? []).length === 0 || JSON.stringify(old.spec?.podCIDRs) !== JSON.stringify(node.spec?.podCIDRs)) enqueue(node);
      },
      onDelete: enqueue,
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    const { informers, logger } = this.context;
    if (this.allocator === undefined) {
      logger.info({ controller: 'nodeipam' }, 'node CIDR allocation is off (--allocate-node-cidrs=false)');
      return;
    }
    if (!(await informers.waitForCacheSync())) return;
    for (const node of this.nodeLister?.list() ?? []) this.occupy(node);
    await runWorkers({ informers, queue: this.queue, workers: this.workers, sync: (name) => this.sync(name), signal, logger });
  }

  /** Marks a node's podCIDRs taken; a node whose CIDRs cannot be is logged and skipped (upstream: fatal at start). */
  private occupy(node: Node): boolean {
    const name = node.metadata?.name ?? '';
    try {
      this.allocator?.occupy(name, node.spec?.podCIDRs ?? []);
      return true;
    } catch (error) {
      this.context.logger.error({ err: error, node: name }, 'node podCIDRs not taken into account');
      return false;
    }
  }

  private async sync(name: string): Promise<void> {
    const allocator = this.allocator as RangeAllocator;
    const node = this.nodeLister?.get(name);
    if (node === undefined) {
      this.waiting.delete(name);
      if (allocator.release(name)) for (const waiter of this.waiting) this.queue.add(waiter);
      return;
    }
    if ((node.spec?.podCIDRs ?? []).length > 0) {
      this.waiting.delete(name);
      this.occupy(node);
      return;
    }
    let cidrs;
    try {
      cidrs = allocator.reserve(name).map(formatCidr);
    } catch (error) {
      if (!(error instanceof CidrRangeFullError)) throw error;
      this.waiting.add(name);
      this.recorder.event(node, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      this.context.logger.warn({ node: name, err: error.message }, 'no CIDR left for node');
      return;
    }
    this.waiting.delete(name);
    try {
      await this.nodes.patch(name, 'merge', { spec: { podCIDR: cidrs[0], podCIDRs: cidrs } });
      this.context.logger.info({ node: name, podCIDRs: cidrs }, 'set node podCIDRs');
    } catch (error) {
      // Refused (4xx: the node is gone, or got CIDRs from someone else): free ours; the node's
      // next change brings it back. Otherwise the write may have happened: keep the reservation
      // and retry with the same CIDRs.
      const code = (error as { code?: number }).code ?? 0;
      if (code < 400 || code >= 500) throw error;
      allocator.release(name);
      if (!isNotFound(error)) this.recorder.event(node, 'Normal', 'CIDRAssignmentFailed', `Node ${name} status is now: CIDRAssignmentFailed`);
      this.context.logger.warn({ node: name, err: (error as Error).message }, 'node podCIDRs not set');
    }
  }
}
