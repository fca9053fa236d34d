/**
 * The scheduler's cache of nodes and the pods on them, after kube-scheduler's cache.
 *
 * Pods enter it two ways: the informer reports a bound pod (addPod), or the scheduler assumes a pod on
 * the node it chose (assumePod) before the binding is written, so the next cycle already counts it.
 * An assumed pod is confirmed when the informer reports it (addPod), dropped if binding fails
 * (forgetPod), and, once finishBinding was called, expires after a TTL if never confirmed. As in
 * upstream v1.32 (scheduler.go's durationToExpireAssumedPod = 0), the default TTL is 0: never expire.
 *
 * NodeInfos sit in a list ordered by generation, newest first, so updateSnapshot copies only those
 * that changed since the snapshot's generation. Snapshots list nodes round-robin across zones. A node removed while pods remain on it (the informer
 * may report those deletions later) stays as a NodeInfo without its node until the pods go; a pod
 * whose node is not known yet waits on such a placeholder too.
 */
import { every, realClock, type Clock } from '@k8ts/base';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { NodeInfo, podKey } from '../framework/node_info.js';
import { NodeTree } from './node_tree.js';
import type { Snapshot } from './snapshot.js';

/** How often run() looks for expired assumed pods (kube: 1 s). */
export const CLEAN_ASSUMED_PERIOD_MS = 1_000;

export interface SchedulerCacheOptions {
  clock?: Clock;
  /** How long an assumed pod whose binding finished may stay unconfirmed; 0 (default) = forever. */
  assumedPodTtlMs?: number;
}

export interface CacheDump {
  /** Copies of every NodeInfo, placeholders (node undefined) included, by node name. */
  nodes: Map<string, NodeInfo>;
  assumedPods: Set<string>;
}

/** A NodeInfo in the generation-ordered list: head is the most recently changed. */
interface NodeItem {
  name: string;
  info: NodeInfo;
  prev: NodeItem | undefined;
  next: NodeItem | undefined;
}

interface PodState {
  pod: Pod;
  /** When an assumed pod expires; set by finishBinding when a TTL applies. */
  deadline: number | undefined;
  bindingFinished: boolean;
}

export class SchedulerCache {
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly nodes = new Map<string, NodeItem>();
  private head: NodeItem | undefined;
  private readonly nodeTree = new NodeTree();
  private readonly podStates = new Map<string, PodState>();
  private readonly assumedPods = new Set<string>();
  private stopCleanup: (() => void) | undefined;

  constructor(options: SchedulerCacheOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.ttlMs = options.assumedPodTtlMs ?? 0;
  }

  /** Starts expiring assumed pods every CLEAN_ASSUMED_PERIOD_MS. */
  run(): void {
    this.stopCleanup ??= every(this.clock, CLEAN_ASSUMED_PERIOD_MS, () => this.cleanupAssumedPods());
  }

  close(): void {
    this.stopCleanup?.();
    this.stopCleanup = undefined;
  }

  // --- nodes ---

  /** Adds (or replaces) a node; returns a copy of its NodeInfo. */
  addNode(node: Node): NodeInfo {
    const item = this.itemFor(nodeName(node));
    // The cache's own copy of the old node says which zone to move the name out of.
    this.nodeTree.updateNode(item.info.node, node);
    item.info.setNode(node);
    this.moveToHead(item);
    return item.info.clone();
  }

  /** As addNode: the cache's stored version stands for `_oldNode`. */
  updateNode(_oldNode: Node, newNode: Node): NodeInfo {
    return this.addNode(newNode);
  }

  /** Forgets the node; its NodeInfo stays, without node, while pods remain on it. */
  removeNode(node: Node): void {
    const name = nodeName(node);
    const item = this.nodes.get(name);
    if (item === undefined) throw new Error(`node ${name} is not found`);
    if (item.info.node !== undefined) this.nodeTree.removeNode(item.info.node);
    item.info.clearNode();
    if (item.info.pods.length === 0) this.unlink(item);
    else this.moveToHead(item);
  }

  // --- pods ---

  /** Puts a pod with spec.nodeName set on its node before its binding is written. */
  assumePod(pod: Pod): void {
    const key = podKey(pod);
    if (this.podStates.has(key)) throw new Error(`pod ${key} is in the cache, so can't be assumed`);
    this.addPodToNode(pod, true);
  }

  /** The binding of an assumed pod was written: its expiry clock starts (if a TTL applies). */
  finishBinding(pod: Pod, now: number = this.clock.now()): void {
    const key = podKey(pod);
    const state = this.podStates.get(key);
    if (state === undefined || !this.assumedPods.has(key)) return;
    state.deadline = this.ttlMs > 0 ? now + this.ttlMs : undefined;
    state.bindingFinished = true;
  }

  /** Drops an assumed pod whose binding failed. */
  forgetPod(pod: Pod): void {
    const key = podKey(pod);
    const state = this.podStates.get(key);
    if (state !== undefined && state.pod.spec?.nodeName !== pod.spec?.nodeName) {
      throw new Error(`pod ${key} was assumed on ${state.pod.spec?.nodeName} but assigned to ${pod.spec?.nodeName}`);
    }
    if (state === undefined || !this.assumedPods.has(key)) throw new Error(`pod ${key} wasn't assumed so cannot be forgotten`);
    this.removePodFromNode(state.pod);
  }

  /** The informer reports a bound pod: confirms an assumed one (moving it if bound elsewhere) or adds it. */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const state = this.podStates.get(key);
    if (state !== undefined && !this.assumedPods.has(key)) throw new Error(`pod ${key} was already in added state`);
    if (state !== undefined) this.removePodFromNode(state.pod);
    // An unknown pod may be an assumed one that expired: add it back.
    this.addPodToNode(pod, false);
  }

  updatePod(oldPod: Pod, newPod: Pod): void {
    const key = podKey(oldPod);
    const state = this.podStates.get(key);
    // An assumed pod gets an Add (confirming it) before any Update.
    if (state === undefined || this.assumedPods.has(key)) throw new Error(`pod ${key} is not added to scheduler cache, so cannot be updated`);
    if (state.pod.spec?.nodeName !== newPod.spec?.nodeName) {
      throw new Error(`pod ${key} updated on a different node than previously added to`);
    }
    this.removePodFromNode(state.pod);
    this.addPodToNode(newPod, false);
  }

  removePod(pod: Pod): void {
    const key = podKey(pod);
    const state = this.podStates.get(key);
    if (state === undefined) throw new Error(`pod ${key} is not found in scheduler cache, so cannot be removed from it`);
    if (state.pod.spec?.nodeName !== pod.spec?.nodeName) {
      throw new Error(`pod ${key} was added to ${state.pod.spec?.nodeName} but removed from ${pod.spec?.nodeName}`);
    }
    this.removePodFromNode(state.pod);
  }

  isAssumedPod(pod: Pod): boolean {
    return this.assumedPods.has(podKey(pod));
  }

  /** The cached version of the pod (assumed or added), if any. */
  getPod(pod: Pod): Pod | undefined {
    return this.podStates.get(podKey(pod))?.pod;
  }

  /** Removes assumed pods whose binding finished longer than the TTL ago; returns them. */
  cleanupAssumedPods(now: number = this.clock.now()): Pod[] {
    if (this.ttlMs <= 0) return [];
    const expired: Pod[] = [];
    for (const key of [...this.assumedPods]) {
      const state = this.podStates.get(key);
      // A binding still in flight must not expire: its pod would be counted nowhere.
      if (state === undefined || !state.bindingFinished || state.deadline === undefined) continue;
      if (now <= state.deadline) continue;
      this.removePodFromNode(state.pod);
      expired.push(state.pod);
    }
    return expired;
  }

  // --- snapshots and inspection ---

  /**
   * Brings `snapshot` up to date: copies the NodeInfos changed since its generation (walking the
   * list from its newest end and stopping at the first unchanged one) into the snapshot's existing
   * NodeInfo objects, and rebuilds the node lists only when a node came or went or a node's
   * having pods with (anti-)affinity flipped. Throws after repairing if the lists disagree.
   */
  updateSnapshot(snapshot: Snapshot): void {
    let relist = false;
    let affinityFlipped = false;
    for (let item = this.head; item !== undefined && item.info.generation > snapshot.generation; item = item.next) {
      if (item.info.node === undefined) continue;
      const copy = item.info.clone();
      const existing = snapshot.nodeInfoMap.get(item.name);
      if (existing === undefined) {
        snapshot.nodeInfoMap.set(item.name, copy);
        relist = true;
        continue;
      }
      affinityFlipped ||= flipped(existing, copy);
      Object.assign(existing, copy); // keep the object: the snapshot's lists point at it
    }
    if (this.head !== undefined) snapshot.generation = this.head.info.generation;
    if (snapshot.nodeInfoMap.size > this.nodeTree.numNodes) {
      this.removeDeletedNodes(snapshot);
      relist = true;
    }
    // Upstream relists only when a node came or went; a node changing zone reorders the list too.
    if (relist || snapshot.nodeTreeVersion !== this.nodeTree.version) this.relist(snapshot);
    else if (affinityFlipped) snapshot.rebuildPodLists();
    if (snapshot.nodeInfoList.length !== this.nodeTree.numNodes) {
      this.relist(snapshot);
      throw new Error(
        `snapshot state is not consistent, length of NodeInfoList=${snapshot.nodeInfoList.length} not equal to length of nodes in tree=${this.nodeTree.numNodes}, length of NodeInfoMap=${snapshot.nodeInfoMap.size}, length of nodes in cache=${this.nodes.size}, trying to recover`,
      );
    }
  }

  dump(): CacheDump {
    const nodes = new Map<string, NodeInfo>();
    for (const [name, item] of this.nodes) nodes.set(name, item.info.clone());
    return { nodes, assumedPods: new Set(this.assumedPods) };
  }

  /** NodeInfos held, placeholders for removed or not yet seen nodes included (as upstream). */
  nodeCount(): number {
    return this.nodes.size;
  }

  podCount(): number {
    let count = 0;
    for (const item of this.nodes.values()) count += item.info.pods.length;
    return count;
  }

  // --- internals ---

  private addPodToNode(pod: Pod, assumed: boolean): void {
    const key = podKey(pod);
    const item = this.itemFor(pod.spec?.nodeName ?? '');
    item.info.addPod(pod);
    this.moveToHead(item);
    this.podStates.set(key, { pod, deadline: undefined, bindingFinished: false });
    if (assumed) this.assumedPods.add(key);
  }

  private removePodFromNode(pod: Pod): void {
    const key = podKey(pod);
    const name = pod.spec?.nodeName ?? '';
    const item = this.nodes.get(name);
    if (item !== undefined) {
      if (!item.info.removePod(pod)) throw new Error(`no corresponding pod ${key} in pods of node ${name}`);
      if (item.info.pods.length === 0 && item.info.node === undefined) this.unlink(item);
      else this.moveToHead(item);
    }
    this.podStates.delete(key);
    this.assumedPods.delete(key);
  }

  /** The node's item, created (as a placeholder without node) if unknown. */
  private itemFor(name: string): NodeItem {
    let item = this.nodes.get(name);
    if (item === undefined) {
      item = { name, info: new NodeInfo(), prev: undefined, next: undefined };
      this.nodes.set(name, item);
      this.moveToHead(item);
    }
    return item;
  }

  private moveToHead(item: NodeItem): void {
    if (this.head === item) return;
    if (item.prev !== undefined) item.prev.next = item.next;
    if (item.next !== undefined) item.next.prev = item.prev;
    item.prev = undefined;
    item.next = this.head;
    if (this.head !== undefined) this.head.prev = item;
    this.head = item;
  }

  private unlink(item: NodeItem): void {
    if (item.prev !== undefined) item.prev.next = item.next;
    if (item.next !== undefined) item.next.prev = item.prev;
    if (this.head === item) this.head = item.next;
    item.prev = item.next = undefined;
    this.nodes.delete(item.name);
  }

  /** Drops snapshot entries for nodes the cache no longer has (or keeps only as placeholders). */
  private removeDeletedNodes(snapshot: Snapshot): void {
    let surplus = snapshot.nodeInfoMap.size - this.nodeTree.numNodes;
    for (const name of snapshot.nodeInfoMap.keys()) {
      if (surplus <= 0) break;
      if (this.nodes.get(name)?.info.node === undefined) {
        snapshot.nodeInfoMap.delete(name);
        surplus--;
      }
    }
  }

  /** Rebuilds the snapshot's node list in the tree's zone-interleaved order. */
  private relist(snapshot: Snapshot): void {
    const list: NodeInfo[] = [];
    for (const name of this.nodeTree.list()) {
      const info = snapshot.nodeInfoMap.get(name);
      if (info !== undefined) list.push(info);
    }
    snapshot.nodeInfoList = list;
    snapshot.nodeTreeVersion = this.nodeTree.version;
    snapshot.rebuildPodLists();
  }
}

function nodeName(node: Node): string {
  return node.metadata?.name ?? '';
}

/** Whether the node changed between having and not having pods with (required anti-)affinity. */
function flipped(before: NodeInfo, after: NodeInfo): boolean {
  return (
    before.podsWithAffinity.length > 0 !== after.podsWithAffinity.length > 0 ||
    before.podsWithRequiredAntiAffinity.length > 0 !== after.podsWithRequiredAntiAffinity.length > 0
  );
}
