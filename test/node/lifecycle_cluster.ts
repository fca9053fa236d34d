import type { KubeObject, ResourceClient } from '@k8ts/client';
import { NodeAgentProcess, SchedulerProcess, type ComponentProcess } from '@k8ts/testkit';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1.js';
import { randomBytes } from 'node:crypto';
import { ControlPlane } from '../controllers/control_plane.js';

/**
 * A real cluster for the kubelet's lifecycle suites: one store member, one apiserver, a
 * k8ts-scheduler, a k8ts-controller-manager (Deployments, ReplicaSets, node IPAM) and process-runtime
 * k8ts-node-agents, each with its own pod network (namespaced: a bridge of its own, pod IPs from its
 * podCIDR), reachable from the test on the host.
 */

export type PodObject = Pod & KubeObject;

const IPAM_FLAGS = ['--allocate-node-cidrs', '--cluster-cidr', '10.245.0.0/16', '--node-cidr-mask-size', '24'];

export class LifecycleCluster {
  readonly agents = new Map<string, NodeAgentProcess>();
  readonly pods: ResourceClient<PodObject>;
  readonly nodes: ResourceClient<Node & KubeObject>;
  readonly events: ResourceClient<Event & KubeObject>;

  private constructor(
    readonly plane: ControlPlane,
    readonly scheduler: ComponentProcess,
  ) {
    this.pods = plane.client.resource<PodObject>('', 'v1', 'pods');
    this.nodes = plane.client.resource<Node & KubeObject>('', 'v1', 'nodes');
    this.events = plane.client.resource<Event & KubeObject>('', 'v1', 'events');
  }

  static async start(nodeNames: readonly string[]): Promise<LifecycleCluster> {
    const plane = await ControlPlane.start();
    let cluster: LifecycleCluster | undefined;
    try {
      const scheduler = await SchedulerProcess.start([plane.grpcAddress]);
      cluster = new LifecycleCluster(plane, scheduler);
      await plane.startManager('deployment,replicaset,nodeipam', IPAM_FLAGS);
      for (const name of nodeNames) await cluster.startAgent(name);
      for (const name of nodeNames) await waitFor(async () => (await cluster!.nodeReady(name)) || undefined, 90_000, `node ${name} Ready`);
      return cluster;
    } catch (error) {
      if (cluster !== undefined) await cluster.stop();
      else await plane.stop();
      throw error;
    }
  }

  async startAgent(name: string): Promise<NodeAgentProcess> {
    // A bridge per agent (agents share the host's network namespace), unique per run.
    const bridge = `k8lc${randomBytes(3).toString('hex')}`;
    const agent = await NodeAgentProcess.start([this.plane.grpcAddress], {
      nodeName: name,
      extraArgs: ['--pod-network', 'namespaced', '--pod-bridge', bridge, '--node-status-update-frequency', '1s', '--node-capacity', 'cpu=4,memory=8Gi', '--max-pods', '50'],
    });
    this.agents.set(name, agent);
    return agent;
  }

  agent(name: string): NodeAgentProcess {
    const agent = this.agents.get(name);
    if (agent === undefined) throw new Error(`no agent ${name}`);
    return agent;
  }

  async nodeReady(name: string): Promise<boolean> {
    try {
      const node = await this.nodes.get(name);
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true && node.spec?.podCIDR !== undefined;
    } catch {
      return false;
    }
  }

  async pod(namespace: string, name: string): Promise<PodObject | undefined> {
    try {
      return await this.pods.namespace(namespace).get(name);
    } catch {
      return undefined;
    }
  }

  /** The pod's events' "reason: message" lines, oldest first. */
  async eventsOf(namespace: string, name: string): Promise<string[]> {
    const list = await this.events.namespace(namespace).list({ fieldSelector: `involvedObject.name=${name}` });
    return list.items
      .sort((a, b) => Date.parse(a.firstTimestamp ?? a.eventTime ?? '') - Date.parse(b.firstTimestamp ?? b.eventTime ?? ''))
      .map((event) => `${event.reason}: ${event.message}`);
  }

  /** Every agent's log tail, for a failing test's output. */
  logs(): string {
    return [...this.agents.values()].map((agent) => `--- ${agent.nodeName}\n${agent.log.slice(-15_000)}`).join('\n');
  }

  /**
   * Deletes the namespace's Deployments and pods and waits until they are gone and no agent runs a
   * pod sandbox or container any more (containers outlive a stopped agent, as a kubelet's do).
   */
  async deleteWorkloads(namespace: string): Promise<void> {
    // No garbage collector runs here: the Deployments' ReplicaSets are deleted by hand.
    for (const resource of ['deployments', 'replicasets']) {
      const client = this.plane.client.resource<KubeObject>('apps', 'v1', resource).namespace(namespace);
      for (const object of (await client.list()).items) await client.delete(object.metadata?.name ?? '', { propagationPolicy: 'Orphan' });
    }
    for (const pod of (await this.pods.namespace(namespace).list()).items) {
      await this.pods
        .namespace(namespace)
        .delete(pod.metadata?.name ?? '', { gracePeriodSeconds: 1 })
        .catch(() => undefined);
    }
    await waitFor(async () => ((await this.pods.namespace(namespace).list()).items.length === 0 ? true : undefined), 90_000, `the pods of ${namespace} deleted`);
    for (const agent of this.agents.values()) {
      await waitFor(
        async () => {
          const metrics = await (await fetch(`${agent.serverUrl}/metrics`)).text();
          const running = /^kubelet_running_pods (\d+)$/m.exec(metrics)?.[1];
          const containers = /^kubelet_running_containers\{container_state="running"\} (\d+)$/m.exec(metrics)?.[1] ?? '0';
          return running === '0' && containers === '0' ? true : undefined;
        },
        60_000,
        `nothing running on ${agent.nodeName}`,
      );
    }
  }

  async stop(): Promise<void> {
    // Each agent, its pods' leftover processes and its pod network (bridge included) go.
    for (const agent of this.agents.values()) {
      try {
        await agent.cleanUp();
      } catch (error) {
        process.stderr.write(`${agent.nodeName}: not cleaned up: ${(error as Error).message}\n`);
      }
    }
    await this.scheduler.stop();
    await this.plane.stop();
  }
}

/** Polls `read` (every 250 ms) until it gives a value; rejects naming `what` after `timeoutMs`. */
export async function waitFor<T>(read: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The process ids whose command line contains `marker` (a unique word in a container's command). */
export async function processesWith(marker: string): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker) && Number(entry) !== process.pid) pids.push(Number(entry));
  }
  return pids;
}
