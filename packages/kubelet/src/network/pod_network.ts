import type { PodSandboxConfig } from '../runtime/runtime.js';

/**
 * A pod's network, behind one interface so the networking issue (routes between nodes, Services,
 * DNS) can build on it and the runtime never runs `ip` itself.
 *
 * - `namespaced`: with the privileges (root, or CAP_NET_ADMIN + CAP_SYS_ADMIN), each pod gets a network
 *   namespace and a UTS namespace (its hostname) of its own, joined to the node's bridge by a veth pair,
 *   with an IP from the node's `spec.podCIDR`; allocations are kept on disk, so a restarted agent never
 *   hands an address out twice.
 * - `host`: without them, every pod shares the node's address (and `hostNetwork: true` pods always do).
 *
 * `setUp` is idempotent for a sandbox id (a restarted agent calls it again and gets the same answer);
 * `tearDown` frees everything and is a no-op for an unknown id. `reconcile` is for a runtime starting
 * over an existing root dir: given the sandboxes it still has, it frees the addresses and namespaces
 * of every other one (left by sandboxes removed while the agent was down, or by a crash mid-setUp).
 */
export interface PodNetworkAttachment {
  /** The pod's IPs, primary first. */
  readonly ips: readonly string[];
  /** The command prefix that runs a program inside the pod's namespaces (empty in host mode). */
  readonly enter: readonly string[];
}

export interface PodNetwork {
  readonly mode: 'namespaced' | 'host';
  setUp(sandboxId: string, config: PodSandboxConfig): Promise<PodNetworkAttachment>;
  tearDown(sandboxId: string): Promise<void>;
  /**
   * Whether a sandbox set up before still has what `setUp` made (its namespaces): false once the
   * node itself restarted (a node container's restart, a reboot), when they died with it.
   */
  intact(sandboxId: string, config: PodSandboxConfig): Promise<boolean>;
  /** Tears down every sandbox not in `liveSandboxIds`; resolves to the ids it freed. */
  reconcile(liveSandboxIds: Iterable<string>): Promise<string[]>;
}
