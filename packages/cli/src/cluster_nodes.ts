/**
 * The local cluster's nodes: the node agents `k8ts up` starts (their flags and ports), their
 * readiness as the API server has it (for `up` to wait on and `status` to show), and what `down`
 * does for their pods' processes.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Highest `--nodes` (each process agent takes two ports from base+100 on). */
export const MAX_PROCESS_NODES = 50;
/** The pods' address range the controller managers' node IPAM hands /24s from: 16,384 nodes. */
export const CLUSTER_CIDR = '10.64.0.0/10';
export const SIMULATED_PREFIX = 'sim';

/** Where a process node runs: a node host (a network namespace of its own, as root) or a loopback address. */
export interface NodePlacement {
  /** The node's address: its host's, or 127.0.1.<index> without one. */
  readonly ip: string;
  /** The argv prefix that runs the agent inside its node host (none: this namespace). */
  readonly enter: readonly string[];
}

export interface AgentPlan {
  readonly name: string;
  /** The argv prefix the agent is started with (its node host's `enter`), or none. */
  readonly enter: readonly string[];
  readonly args: readonly string[];
  readonly healthUrl: string;
  readonly rootDir: string;
  /** The Node names it registers. */
  readonly nodeNames: readonly string[];
  /** How long its /healthz may take (a fleet registers every node first). */
  readonly healthTimeoutMs: number;
}

export function processNodeName(index: number): string {
  return `node-${index}`;
}

export function simulatedNodeNames(count: number): string[] {
  const width = String(count - 1).length;
  return Array.from({ length: count }, (_, index) => `${SIMULATED_PREFIX}-${String(index).padStart(width, '0')}`);
}

/** The agents for `--nodes` process nodes and `--simulated-nodes` simulated ones. */
/** The node hosts' bridge, named after the base port so clusters side by side never share one. */
export function nodeNetworkName(basePort: number): string {
  return `k8tsn${basePort}`;
}

/** The node hosts' subnet: a /24 of 172.30.0.0/16 chosen by the base port. */
export function nodeSubnet(basePort: number): string {
  return `172.30.${basePort % 250}.0/24`;
}

/** A node's loopback address when it has no node host: every 127.0.0.0/8 address is this machine's. */
export function loopbackNodeIp(index: number): string {
  return `127.0.1.${index}`;
}

/**
 * The agents for `--nodes` process nodes (node `i` placed by `placement(i)`) and `--simulated-nodes`
 * simulated ones (always on 127.0.0.1 of this namespace: they run no pods).
 */
export function planAgents(options: {
  dir: string;
  basePort: number;
  grpcApis: readonly string[];
  natsUrl: string;
  nodes: number;
  simulatedNodes: number;
  placement: (index: number) => NodePlacement;
}): AgentPlan[] {
  const { dir, basePort, grpcApis, natsUrl } = options;
  const common = (name: string, ip: string, healthzPort: number, port: number, rootDir: string): string[] => [
    '--master', grpcApis.join(','),
    '--hostname-override', name,
    '--node-ip', ip,
    '--root-dir', rootDir,
    '--nats-url', natsUrl,
    '--healthz-bind-address', ip,
    '--healthz-port', String(healthzPort),
    '--address', ip,
    '--port', String(port),
  ];
  const plans: AgentPlan[] = [];
  for (let index = 1; index <= options.nodes; index++) {
    const name = processNodeName(index);
    const rootDir = join(dir, 'nodes', name);
    const healthzPort = basePort + 100 + 2 * index;
    const { ip, enter } = options.placement(index);
    const args = common(name, ip, healthzPort, healthzPort + 1, rootDir);
    // Agents sharing this network namespace each need a bridge of their own (≤ 15 characters; the base port keeps clusters apart).
    if (enter.length === 0) args.push('--pod-bridge', `k8b${basePort}n${index}`);
    plans.push({ name, enter, args, healthUrl: `http://${ip}:${healthzPort}/healthz`, rootDir, nodeNames: [name], healthTimeoutMs: 30_000 });
  }
  if (options.simulatedNodes > 0) {
    const rootDir = join(dir, 'nodes', SIMULATED_PREFIX);
    const healthzPort = basePort + 62;
    const args = [
      ...common(SIMULATED_PREFIX, '127.0.0.1', healthzPort, healthzPort + 1, rootDir),
      '--runtime', 'simulated',
      '--nodes', String(options.simulatedNodes),
      '--simulated-node-prefix', SIMULATED_PREFIX,
      // One client serves the whole fleet: a kubelet's 50 QPS would throttle thousands of nodes.
      '--kube-api-qps', '100000',
      '--kube-api-burst', '100000',
    ];
    plans.push({
      name: 'simulated-nodes',
      enter: [],
      args,
      healthUrl: `http://127.0.0.1:${healthzPort}/healthz`,
      rootDir,
      nodeNames: simulatedNodeNames(options.simulatedNodes),
      healthTimeoutMs: 60_000 + 50 * options.simulatedNodes,
    });
  }
  return plans;
}

/** The absolute path of `binary` on PATH, or undefined. */
export function onPath(binary: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, binary);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

interface NodeSeen {
  readonly metadata?: { readonly name?: string };
  readonly status?: { readonly conditions?: readonly { readonly type?: string; readonly status?: string; readonly reason?: string }[] };
}

export interface NodeReadiness {
  readonly name: string;
  /** The Ready condition's status ('True', 'False', 'Unknown'), or 'absent' when there is no Node. */
  readonly ready: string;
  readonly reason: string;
}

/** Every node's Ready condition, as the API server has it. */
export async function readNodes(apiserver: string): Promise<Map<string, NodeReadiness>> {
  const response = await fetch(`${apiserver}/api/v1/nodes`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET nodes: ${response.status} ${(await response.text()).slice(0, 200)}`);
  const list = (await response.json()) as { items?: NodeSeen[] };
  const nodes = new Map<string, NodeReadiness>();
  for (const node of list.items ?? []) {
    const name = node.metadata?.name ?? '';
    const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready');
    nodes.set(name, { name, ready: ready?.status ?? 'Unknown', reason: ready?.reason ?? '' });
  }
  return nodes;
}

/** Waits until every named node is Ready; throws naming those that are not at the deadline. */
export async function waitNodesReady(apiserver: string, names: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let notReady: string[];
    try {
      const nodes = await readNodes(apiserver);
      notReady = names.filter((name) => nodes.get(name)?.ready !== 'True');
    } catch {
      notReady = [...names];
    }
    if (notReady.length === 0) return;
    if (Date.now() >= deadline) throw new Error(`nodes not Ready within ${timeoutMs / 1000} s: ${notReady.slice(0, 10).join(', ')}${notReady.length > 10 ? ` and ${notReady.length - 10} more` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** `k8ts status`'s lines: each process node, and the simulated ones summed up. */
export function formatNodes(nodes: ReadonlyMap<string, NodeReadiness>, processNodes: readonly string[], simulatedNodes: readonly string[]): string[] {
  const lines = processNodes.map((name) => {
    const node = nodes.get(name);
    const readiness = node === undefined ? 'not registered' : node.ready === 'True' ? 'Ready' : `NotReady (${node.ready}${node.reason ? `: ${node.reason}` : ''})`;
    return `node ${name.padEnd(15)} ${readiness}`;
  });
  if (simulatedNodes.length > 0) {
    const ready = simulatedNodes.filter((name) => nodes.get(name)?.ready === 'True').length;
    lines.push(`simulated nodes ${SIMULATED_PREFIX}-*: ${ready} of ${simulatedNodes.length} Ready`);
  }
  const ours = new Set([...processNodes, ...simulatedNodes]);
  const readyTotal = [...ours].filter((name) => nodes.get(name)?.ready === 'True').length;
  lines.push(`nodes: ${readyTotal} of ${ours.size} Ready`);
  return lines;
}
