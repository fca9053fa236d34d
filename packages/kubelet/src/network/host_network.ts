import type { PodNetwork, PodNetworkAttachment } from './pod_network.js';

/**
 * Every pod shares the node's network (and hostname): what an agent without the privileges for
 * namespaces runs, and what `hostNetwork: true` pods get in any mode. There is nothing to set up or
 * free, so the attachment is always the node's address and an empty `enter`.
 */
export function hostNetwork(nodeIP: string): PodNetwork {
  const attachment: PodNetworkAttachment = { ips: [nodeIP], enter: [] };
  return {
    mode: 'host',
    setUp: () => Promise.resolve(attachment),
    tearDown: () => Promise.resolve(),
    intact: () => Promise.resolve(true),
    reconcile: () => Promise.resolve([]),
  };
}
