/**
 * Pods nominated to a node by preemption and not bound yet (kube's nominator). Filters count them on
 * their node so that lower-priority pods do not take the room preemption freed for them.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podKey, type PodInfo } from '../framework/node_info.js';

const NONE: readonly PodInfo[] = Object.freeze([]);

export class Nominator {
  private readonly podsByNode = new Map<string, PodInfo[]>();
  private readonly nodeByPod = new Map<string, string>();

  /**
   * Records the pod as nominated to `nodeName`, or else to its status.nominatedNodeName; a pod with
   * neither, or already bound (spec.nodeName), is not nominated. Replaces any earlier nomination.
   */
  add(info: PodInfo, nodeName?: string): void {
    this.delete(info.pod);
    const target = nodeName ?? info.pod.status?.nominatedNodeName;
    if (!target || info.pod.spec?.nodeName) return;
    const key = podKey(info.pod);
    this.nodeByPod.set(key, target);
    const list = this.podsByNode.get(target);
    if (list === undefined) this.podsByNode.set(target, [info]);
    else list.push(info);
  }

  /**
   * Takes the newer pod object. An update that says nothing of a nomination (neither version has
   * status.nominatedNodeName) keeps the node preemption chose in memory: the API write may lag.
   */
  update(oldPod: Pod, newInfo: PodInfo): void {
    const kept =
      !oldPod.status?.nominatedNodeName && !newInfo.pod.status?.nominatedNodeName ? this.nodeByPod.get(podKey(oldPod)) : undefined;
    this.delete(oldPod);
    this.add(newInfo, kept);
  }

  delete(pod: Pod): void {
    const key = podKey(pod);
    const nodeName = this.nodeByPod.get(key);
    if (nodeName === undefined) return;
    this.nodeByPod.delete(key);
    const list = this.podsByNode.get(nodeName) ?? [];
    const remaining = list.filter((info) => podKey(info.pod) !== key);
    if (remaining.length === 0) this.podsByNode.delete(nodeName);
    else this.podsByNode.set(nodeName, remaining);
  }

  nominatedNodeFor(pod: Pod): string | undefined {
    return this.nodeByPod.get(podKey(pod));
  }

  /** A copy (callers may keep it); Filter asks this for every node, so an empty answer allocates nothing. */
  podsForNode(nodeName: string): readonly PodInfo[] {
    // Most cycles have no nominee anywhere: then not even the map is probed (5% of a busy scheduler).
    if (this.podsByNode.size === 0) return NONE;
    const list = this.podsByNode.get(nodeName);
    return list === undefined ? NONE : [...list];
  }

  get size(): number {
    return this.nodeByPod.size;
  }
}
