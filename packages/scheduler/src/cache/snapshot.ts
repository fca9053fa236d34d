/**
 * The NodeInfos one scheduling cycle decides on (kube's cache.Snapshot). The cache refreshes it in
 * place between cycles, copying only the NodeInfos that changed; during a cycle nothing changes it.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfoLister } from '../framework/interfaces.js';
import { NodeInfo } from '../framework/node_info.js';

export class Snapshot implements NodeInfoLister {
  /** Node name → NodeInfo; kept per name across updates, so the lists below stay valid. */
  readonly nodeInfoMap = new Map<string, NodeInfo>();
  nodeInfoList: NodeInfo[] = [];
  havePodsWithAffinityNodeInfoList: NodeInfo[] = [];
  havePodsWithRequiredAntiAffinityNodeInfoList: NodeInfo[] = [];
  /** The newest NodeInfo generation copied in; 0 = nothing yet. */
  generation = 0;
  /** The cache's node tree version nodeInfoList was listed from; -1 = never. */
  nodeTreeVersion = -1;

  /** A snapshot built straight from objects (for tests and one-off decisions), pods by spec.nodeName. */
  static from(nodes: readonly Node[], pods: readonly Pod[] = []): Snapshot {
    const snapshot = new Snapshot();
    for (const node of nodes) {
      const info = new NodeInfo(node);
      snapshot.nodeInfoMap.set(info.name, info);
      snapshot.nodeInfoList.push(info);
    }
    for (const pod of pods) {
      const nodeName = pod.spec?.nodeName;
      if (nodeName) snapshot.nodeInfoMap.get(nodeName)?.addPod(pod);
    }
    snapshot.rebuildPodLists();
    return snapshot;
  }

  list(): readonly NodeInfo[] {
    return this.nodeInfoList;
  }

  get(nodeName: string): NodeInfo | undefined {
    return this.nodeInfoMap.get(nodeName);
  }

  havePodsWithAffinityList(): readonly NodeInfo[] {
    return this.havePodsWithAffinityNodeInfoList;
  }

  havePodsWithRequiredAntiAffinityList(): readonly NodeInfo[] {
    return this.havePodsWithRequiredAntiAffinityNodeInfoList;
  }

  numNodes(): number {
    return this.nodeInfoList.length;
  }

  /** Recomputes the affinity lists from nodeInfoList, keeping its order. */
  rebuildPodLists(): void {
    this.havePodsWithAffinityNodeInfoList = this.nodeInfoList.filter((info) => info.podsWithAffinity.length > 0);
    this.havePodsWithRequiredAntiAffinityNodeInfoList = this.nodeInfoList.filter((info) => info.podsWithRequiredAntiAffinity.length > 0);
  }
}
