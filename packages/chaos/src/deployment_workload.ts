import { ApiClient, isAlreadyExists, type KubeObject } from '@k8ts/client';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Namespace, Node, Service } from 'kubernetes-types/core/v1.js';
import type { ReplicaSample } from './checks.js';

/**
 * The workload's objects in the cluster: a namespace of the run's own, a Deployment of
 * k8ts/http-echo (ready when it answers its readiness probe; each pod requests a little cpu and
 * memory, so the over-commit check has sums to add) scaled up and down and rolled (as `kubectl
 * rollout restart` does) during the run, and a NodePort Service in front of it. All through the API
 * servers' gRPC API, with failover between them (the components' client).
 */

export const DEPLOYMENT_NAME = 'echo';
export const WORKLOAD_LABELS = { app: DEPLOYMENT_NAME } as const;
/** What each echo pod asks of its node. */
const POD_REQUESTS = { cpu: '50m', memory: '32Mi' };

export class DeploymentWorkload {
  readonly client: ApiClient;

  constructor(
    apiGrpc: readonly string[],
    readonly namespace: string,
    private readonly initialReplicas: number,
    /** Tolerations of unreachable/not-ready nodes for this long; undefined: the API's defaults. */
    private readonly tolerationSeconds?: number,
  ) {
    this.client = new ApiClient({ addresses: apiGrpc, callTimeoutMs: 2_000, fieldManager: 'k8ts-chaos' });
  }

  /** Creates the namespace, the Deployment and the Service; resolves to the Service's node port, cluster IP and port. */
  async create(): Promise<{ nodePort: number; clusterIp: string; port: number }> {
    const labels = { ...WORKLOAD_LABELS };
    const tolerationSeconds = this.tolerationSeconds;
    await this.ignoreExisting(this.client.resource<Namespace & KubeObject>('', 'v1', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespace } }));
    const deployment: Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: DEPLOYMENT_NAME, namespace: this.namespace, labels },
      spec: {
        replicas: this.initialReplicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            ...(tolerationSeconds === undefined
              ? {}
              : { tolerations: ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready'].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds })) }),
            containers: [
              {
                name: 'echo',
                image: 'k8ts/http-echo',
                ports: [{ containerPort: 8080, name: 'http' }],
                env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
                resources: { requests: POD_REQUESTS },
                readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
              },
            ],
          },
        },
      },
    };
    await this.ignoreExisting(this.deployments().create(deployment as Deployment & KubeObject));
    const service: Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: DEPLOYMENT_NAME, namespace: this.namespace },
      spec: { type: 'NodePort', selector: labels, ports: [{ name: 'http', port: 80, targetPort: 8080 as never }] },
    };
    await this.ignoreExisting(this.services().create(service as Service & KubeObject));
    const created = await this.services().get(DEPLOYMENT_NAME);
    const nodePort = created.spec?.ports?.[0]?.nodePort;
    const clusterIp = created.spec?.clusterIP;
    if (nodePort === undefined || clusterIp === undefined) throw new Error(`Service ${this.namespace}/${DEPLOYMENT_NAME} has no node port or no cluster IP`);
    return { nodePort, clusterIp, port: 80 };
  }

  /** Sets the Deployment's replicas (a merge patch of spec.replicas). */
  async scale(replicas: number): Promise<void> {
    await this.deployments().patch(DEPLOYMENT_NAME, 'merge', { spec: { replicas } });
  }

  /** Rolls the pods as `kubectl rollout restart` does: a new restartedAt annotation in the pod template. */
  async rolloutRestart(at: Date): Promise<void> {
    await this.deployments().patch(DEPLOYMENT_NAME, 'strategic', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at.toISOString() } } } } });
  }

  async sample(atMs: number): Promise<ReplicaSample> {
    const deployment = await this.deployments().get(DEPLOYMENT_NAME);
    const desired = deployment.spec?.replicas ?? 1;
    const status = deployment.status ?? {};
    // As `kubectl rollout status` reads it: the controller saw the latest spec, and every replica is new and available.
    const rolledOut =
      (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
      (status.updatedReplicas ?? 0) >= desired &&
      (status.replicas ?? 0) <= (status.updatedReplicas ?? 0) &&
      (status.availableReplicas ?? 0) >= (status.updatedReplicas ?? 0);
    const counts = `generation ${deployment.metadata?.generation ?? '?'} observed ${status.observedGeneration ?? '?'}, ${status.replicas ?? 0} replicas, ${status.updatedReplicas ?? 0} updated, ${status.availableReplicas ?? 0} available`;
    return { atMs, desired, ready: status.readyReplicas ?? 0, rolledOut, ...(rolledOut ? {} : { rollout: counts }) };
  }

  /** Ready/total of the cluster's Nodes as the API has them. */
  async nodesReady(): Promise<{ ready: number; total: number }> {
    const nodes = await this.client.resource<Node & KubeObject>('', 'v1', 'nodes').list();
    const ready = nodes.items.filter((node) => node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True')).length;
    return { ready, total: nodes.items.length };
  }

  /** Removes the run's namespace (and with it the workload); does not wait for it to go. */
  async delete(): Promise<void> {
    await this.client.resource<Namespace & KubeObject>('', 'v1', 'namespaces').delete(this.namespace);
  }

  close(): void {
    this.client.close();
  }

  private deployments() {
    return this.client.resource<Deployment & KubeObject>('apps', 'v1', 'deployments').namespace(this.namespace);
  }

  private services() {
    return this.client.resource<Service & KubeObject>('', 'v1', 'services').namespace(this.namespace);
  }

  /** A create retried after failover may meet its own first attempt. */
  private async ignoreExisting(create: Promise<unknown>): Promise<void> {
    await create.catch((error: unknown) => {
      if (!isAlreadyExists(error)) throw error;
    });
  }
}
