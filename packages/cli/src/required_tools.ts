/**
 * The programs `k8ts up` needs from the machine, and exactly what to install when one is missing
 * (Debian/Ubuntu package names: the environment the project documents).
 */

export interface Tool {
  readonly binary: string;
  readonly install: string;
}

export const NATS_SERVER: Tool = { binary: 'nats-server', install: 'apt-get install nats-server (or a release from https://github.com/nats-io/nats-server/releases)' };
export const KUBECTL: Tool = {
  binary: 'kubectl',
  install: 'kubectl v1.32 from https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/ (or apt-get install kubectl from the pkgs.k8s.io repository)',
};
/** What node hosts and pod networks use as root: network namespaces, veths, bridges, masquerade rules, mounts. */
export const NODE_NETWORK_TOOLS: readonly Tool[] = [
  { binary: 'ip', install: 'apt-get install iproute2' },
  { binary: 'iptables', install: 'apt-get install iptables' },
  { binary: 'unshare', install: 'apt-get install util-linux' },
  { binary: 'nsenter', install: 'apt-get install util-linux' },
  { binary: 'mount', install: 'apt-get install mount' },
  { binary: 'hostname', install: 'apt-get install hostname' },
];

export interface ToolCheck {
  /** Reasons `up` cannot go on. */
  readonly missing: readonly string[];
  /** Worth saying, but the cluster comes up without them. */
  readonly warnings: readonly string[];
}

function line(tool: Tool, why: string): string {
  return `${tool.binary} is not on PATH (${why}): install it: ${tool.install}`;
}

/**
 * `privileged`: this process may make network namespaces (root, or CAP_NET_ADMIN and CAP_SYS_ADMIN),
 * so nodes get hosts of their own and need the node network's tools; `nodes`: process-runtime nodes asked for.
 */
export function checkTools(facts: { present: (binary: string) => boolean; privileged: boolean; nodes: number }): ToolCheck {
  const missing: string[] = [];
  const warnings: string[] = [];
  if (!facts.present(NATS_SERVER.binary)) missing.push(line(NATS_SERVER, 'the API servers reach the nodes through it'));
  if (facts.privileged && facts.nodes > 0) {
    for (const tool of NODE_NETWORK_TOOLS) {
      if (!facts.present(tool.binary)) missing.push(line(tool, 'as root, each node and pod gets a network namespace of its own'));
    }
  }
  if (!facts.present(KUBECTL.binary)) warnings.push(line(KUBECTL, 'the cluster comes up, but you drive it with kubectl'));
  return { missing, warnings };
}
