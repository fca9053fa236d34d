/**
 * One attempt at registering a Node, as upstream's tryRegisterWithAPIServer: create it; if it
 * exists already (a restarted kubelet, or a Node made by hand), adopt it — the kubelet's labels
 * are written where they differ, its spec (podCIDR, taints, unschedulable) is left alone — and its
 * status is then the reporter's to write.
 */
import type { ApiClient, KubeObject } from '@k8ts/client';
import { isAlreadyExists } from '@k8ts/client';
import type { Node } from 'kubernetes-types/core/v1.js';
import { buildNode, labelsToAdopt, type NodeDescription, type NodeObservation } from './node_status.js';

export type NodeObject = Node & KubeObject;

export async function registerNode(client: ApiClient, description: NodeDescription, observation: NodeObservation, nowMs: number): Promise<{ node: NodeObject; created: boolean }> {
  const nodes = client.resource<NodeObject>('', 'v1', 'nodes');
  try {
    return { node: await nodes.create(buildNode(description, observation, nowMs)), created: true };
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  const existing = await nodes.get(description.name);
  const labels = labelsToAdopt(existing, description);
  const node = labels === undefined ? existing : await nodes.patch(description.name, 'strategic', { metadata: { labels } });
  return { node, created: false };
}
