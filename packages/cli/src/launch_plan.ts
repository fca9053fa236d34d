/**
 * What `k8ts up` starts, in order: stages of parts; every part of a stage starts at once and the
 * next stage starts when all of them answer on their health URLs — or with it, when it needs
 * nothing of it (`withPrevious`: NATS and the store; after the API servers, the load balancer, the
 * components and the nodes, which need only the API servers and NATS). Pure (no processes): `up` runs
 * the plan. A new kind of part joins with `addStage`.
 */
import { join, resolve } from 'node:path';
import { CLUSTER_CIDR, type AgentPlan } from './cluster_nodes.js';

const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);
/** A workspace binary (node_modules/.bin). */
export const workspaceBin = (name: string): string => join(repoRoot, 'node_modules', '.bin', name);

export interface PartPlan {
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  /** Polled until it answers 2xx: the part is ready. */
  readonly healthUrl: string;
  readonly healthTimeoutMs?: number;
  /** The argv prefix that runs it inside a node host (a node agent, or a store member in a host of its own). */
  readonly enter?: readonly string[];
  /** Recorded in the state file for `status`, `down` and chaos. */
  readonly lease?: string;
  readonly rootDir?: string;
  readonly clientUrl?: string;
}

export interface Stage {
  /** What the progress line calls the stage (also how addStage finds one). */
  readonly title: string;
  readonly parts: readonly PartPlan[];
  /** Starts with the stage before it rather than once that one answers (it needs nothing of it). */
  readonly withPrevious?: boolean;
}

export interface LaunchPlan {
  readonly stages: readonly Stage[];
  /** The API servers' HTTP URLs (readiness of nodes is read from the first). */
  readonly apiservers: readonly string[];
  /** The components' gRPC API addresses (host:port). */
  readonly grpcApis: readonly string[];
  readonly etcdServers: readonly string[];
  readonly natsUrl: string;
  /** The server the kubeconfig names: the API load balancer in front of the API servers. */
  readonly kubeconfigServer: string;
}

export interface PlanOptions {
  readonly dir: string;
  readonly basePort: number;
  /** The address the control plane listens on for the nodes (a node network's gateway, or 127.0.0.1). */
  readonly controlIp: string;
  readonly natsServer: string;
  /** The node agents, given the components' gRPC addresses and NATS URL. */
  readonly agents: (endpoints: { grpcApis: readonly string[]; natsUrl: string }) => readonly AgentPlan[];
  /** Where store member `index` (1..3) runs: a host of its own (its address, the prefix that enters it); absent: 127.0.0.1 here. */
  readonly storePlacement?: (index: number) => { readonly ip: string; readonly enter: readonly string[] };
}

export function planCluster(options: PlanOptions): LaunchPlan {
  const { dir, basePort: base, controlIp } = options;
  const address = (offset: number): string => `127.0.0.1:${base + offset}`;
  const controlAddress = (offset: number): string => `${controlIp}:${base + offset}`;
  const members = [1, 2, 3].map((i) => {
    const placed = options.storePlacement?.(i);
    const at = (offset: number): string => (placed === undefined ? address(offset) : `${placed.ip}:${base + offset}`);
    return { name: `store-${i}`, client: `http://${at(i)}`, peer: `http://${at(10 + i)}`, enter: placed?.enter };
  });
  const apiservers = [1, 2].map((i) => `http://${controlAddress(20 + i)}`);
  const grpcApis = [1, 2].map((i) => controlAddress(30 + i));
  const natsUrl = `nats://${controlAddress(60)}`;
  const etcdServers = members.map((m) => new URL(m.client).host);
  const initialCluster = members.map((m) => `${m.name}=${m.peer}`).join(',');

  const stages: Stage[] = [];
  // NATS first: the API servers reach the nodes through it (logs, exec, attach, port-forward).
  stages.push({
    title: 'nats',
    parts: [{ name: 'nats-server', binary: options.natsServer, args: ['-a', controlIp, '-p', String(base + 60), '-m', String(base + 61)], healthUrl: `http://${controlAddress(61)}/healthz` }],
  });
  stages.push({
    title: 'store',
    withPrevious: true,
    parts: members.map((m) => ({
      name: m.name,
      binary: workspaceBin('k8ts-store'),
      args: [
        '--name', m.name,
        '--data-dir', join(dir, 'data', m.name),
        '--listen-client-urls', m.client,
        '--advertise-client-urls', m.client,
        '--listen-peer-urls', m.peer,
        '--initial-advertise-peer-urls', m.peer,
        '--initial-cluster', initialCluster,
      ],
      healthUrl: `${m.client}/health`,
      clientUrl: m.client,
      ...(m.enter === undefined ? {} : { enter: m.enter }),
    })),
  });
  stages.push({
    title: 'apiservers',
    parts: apiservers.map((url, i) => ({
      name: `apiserver-${i + 1}`,
      binary: workspaceBin('k8ts-apiserver'),
      args: ['--etcd-servers', etcdServers.join(','), '--bind-address', controlIp, '--port', new URL(url).port, '--grpc-port', (grpcApis[i] ?? '').split(':')[1] ?? '', '--secure-port', '0', '--nats-url', natsUrl],
      healthUrl: `${url}/readyz`,
    })),
  });
  // kubectl's door: the API load balancer in front of both API servers (as HA clusters have
  // HAProxy or kube-vip), checking each one's /readyz every second. The components are given both
  // gRPC addresses and fail over themselves.
  const lbPort = base + 20;
  stages.push({
    title: 'api-lb',
    parts: [
      {
        name: 'api-lb',
        binary: workspaceBin('k8ts-api-lb'),
        args: ['--bind-address', '127.0.0.1', '--port', String(lbPort), '--backends', apiservers.map((url) => new URL(url).host).join(','), '--health-interval', '1s', '--healthz-port', String(base + 25)],
        healthUrl: `http://127.0.0.1:${base + 25}/healthz`,
      },
    ],
  });
  // Two replicas of each; one leads (the Lease kube-system/<lease>), the other waits to take over.
  const components = [
    { name: 'scheduler', binary: 'k8ts-scheduler', lease: 'kube-scheduler', portOffset: 40 },
    { name: 'controller-manager', binary: 'k8ts-controller-manager', lease: 'kube-controller-manager', portOffset: 50 },
  ];
  stages.push({
    title: 'components',
    withPrevious: true,
    parts: components.flatMap((component) =>
      [1, 2].map((i): PartPlan => {
        const port = base + component.portOffset + i;
        const args = ['--master', grpcApis.join(','), '--bind-address', '127.0.0.1', '--port', String(port)];
        // Node IPAM, as kind and kubeadm clusters have it: each node's podCIDR for its pods' addresses.
        if (component.name === 'controller-manager') args.push('--allocate-node-cidrs', '--cluster-cidr', CLUSTER_CIDR);
        return { name: `${component.name}-${i}`, binary: workspaceBin(component.binary), args, healthUrl: `http://127.0.0.1:${port}/healthz`, lease: component.lease };
      }),
    ),
  });
  // The nodes: each agent answers /healthz once its Node is registered.
  stages.push({
    title: 'nodes',
    withPrevious: true,
    parts: options.agents({ grpcApis, natsUrl }).map((agent) => ({
      name: agent.name,
      binary: workspaceBin('k8ts-node-agent'),
      args: agent.args,
      healthUrl: agent.healthUrl,
      healthTimeoutMs: agent.healthTimeoutMs,
      enter: agent.enter,
      rootDir: agent.rootDir,
    })),
  });
  return { stages, apiservers, grpcApis, etcdServers, natsUrl, kubeconfigServer: `http://127.0.0.1:${lbPort}` };
}

/**
 * The seam for a new kind of part: `stage` runs right after the stage titled `after` (its parts
 * start once those answer). A part that stands in front of the API servers (a load balancer) passes
 * `kubeconfigServer` so the kubeconfig `up` writes names it.
 */
export function addStage(plan: LaunchPlan, stage: Stage, after: string, kubeconfigServer?: string): LaunchPlan {
  const index = plan.stages.findIndex((existing) => existing.title === after);
  if (index < 0) throw new Error(`no stage ${JSON.stringify(after)} in the launch plan (${plan.stages.map((s) => s.title).join(', ')})`);
  if (plan.stages.some((existing) => existing.title === stage.title)) throw new Error(`the launch plan has a stage ${JSON.stringify(stage.title)} already`);
  const stages = [...plan.stages.slice(0, index + 1), stage, ...plan.stages.slice(index + 1)];
  return { ...plan, stages, kubeconfigServer: kubeconfigServer ?? plan.kubeconfigServer };
}

/** Every part of the plan, in start order. */
export function planParts(plan: LaunchPlan): PartPlan[] {
  return plan.stages.flatMap((stage) => stage.parts);
}
