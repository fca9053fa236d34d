import type { Logger } from 'pino';
import { hostNetwork } from './host_network.js';
import { namespacedNetwork, type NamespacedNetworkOptions } from './namespaced_network.js';
import type { PodNetwork } from './pod_network.js';
import { canUseNamespaces } from './privileges.js';

export interface PodNetworkSelection extends NamespacedNetworkOptions {
  /** `auto` (the default) runs namespaced where the agent has the privileges, host otherwise. */
  readonly mode?: 'auto' | 'namespaced' | 'host';
  readonly logger?: Logger;
}

/**
 * The pod network this agent can run, logged at start as the issue asks: namespaced with the
 * privileges (root, or CAP_NET_ADMIN + CAP_SYS_ADMIN, and iproute2/util-linux), host otherwise.
 * Asking for `namespaced` without them fails here rather than at the first pod.
 */
export async function selectPodNetwork(selection: PodNetworkSelection): Promise<PodNetwork> {
  const mode = selection.mode ?? 'auto';
  const { logger } = selection;
  if (mode === 'host') {
    logger?.info({ mode: 'host', nodeIP: selection.nodeIP }, 'pod network: host (as asked): pods share the node address');
    return hostNetwork(selection.nodeIP);
  }
  const support = await canUseNamespaces();
  if (!support.ok) {
    if (mode === 'namespaced') throw new Error(`pod network: namespaced mode is not possible: ${support.reason}`);
    logger?.warn(
      { mode: 'host', nodeIP: selection.nodeIP, reason: support.reason },
      `pod network: host (${support.reason}): pods share the node address`,
    );
    return hostNetwork(selection.nodeIP);
  }
  logger?.info(
    { mode: 'namespaced', bridge: selection.bridgeName ?? 'k8ts0', nodeIP: selection.nodeIP },
    'pod network: namespaced: each pod gets network and UTS namespaces and an IP from the podCIDR',
  );
  return namespacedNetwork(selection);
}
