import { ApiClient, type KubeObject } from '@k8ts/client';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { ApiServerProcess, ControllerManagerProcess, TestCluster, freePorts, waitForLeader, type ComponentProcess } from '@k8ts/testkit';

export { eventually } from '../client/harness.js';

/** Short leases so failovers in tests take seconds, not upstream's 15 s. */
export const FAST_ELECTION_FLAGS = ['--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '1s'];

/**
 * A control plane of real processes for the controllers' suites: one k8ts-store member, one
 * k8ts-apiserver (kubectl on `apiserver.kubeconfig`, the components' gRPC API on `grpcAddress`),
 * and the controller managers the test starts with `startManager` (kill -9 them with `kill()`).
 */
export class ControlPlane {
  readonly managers: ComponentProcess[] = [];

  private constructor(
    readonly cluster: TestCluster,
    readonly apiserver: ApiServerProcess,
    readonly grpcAddress: string,
    readonly client: ApiClient,
  ) {}

  static async start(): Promise<ControlPlane> {
    const cluster = await TestCluster.start('k8ts', { size: 1 });
    await waitForLeader(cluster.endpoints, 20_000);
    const [grpcPort] = await freePorts(1);
    const apiserver = await ApiServerProcess.start(cluster.endpoints, { extraArgs: ['--grpc-port', String(grpcPort)] });
    const grpcAddress = `127.0.0.1:${grpcPort}`;
    return new ControlPlane(cluster, apiserver, grpcAddress, new ApiClient({ addresses: [grpcAddress] }));
  }

  /** Starts a k8ts-controller-manager running `controllers` (the --controllers value) with fast leases. */
  async startManager(controllers: string, extraArgs: readonly string[] = []): Promise<ComponentProcess> {
    const manager = await ControllerManagerProcess.start([this.grpcAddress], {
      extraArgs: ['--controllers', controllers, '--kube-api-qps', '1000', '--kube-api-burst', '1000', ...FAST_ELECTION_FLAGS, ...extraArgs],
    });
    this.managers.push(manager);
    return manager;
  }

  /** Creates the namespace `name`; resolves to its name. */
  async createNamespace(name: string): Promise<string> {
    await this.client.resource<Namespace & KubeObject>('', 'v1', 'namespaces').create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return name;
  }

  /** The holderIdentity of the Lease kube-system/kube-controller-manager ('' when none or unreadable). */
  async leaseHolder(): Promise<string> {
    try {
      const lease = await this.client.resource<Lease & KubeObject>('coordination.k8s.io', 'v1', 'leases').namespace('kube-system').get('kube-controller-manager');
      return lease.spec?.holderIdentity ?? '';
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.managers.map((manager) => manager.kill('SIGTERM')));
    this.client.close();
    await this.apiserver.stop();
    await this.cluster.stop();
  }
}

/** Whether a controller manager says it leads (its /metrics `leader_election_master_status` is 1); false when it does not answer. */
export async function managerLeads(manager: ComponentProcess): Promise<boolean> {
  try {
    const text = await (await fetch(`${manager.healthUrl}/metrics`)).text();
    return /^leader_election_master_status\{name="kube-controller-manager"\} 1$/m.test(text);
  } catch {
    return false;
  }
}

/** Runs `body` with the manager's log printed if it fails, and kills the manager (-9) afterwards. */
export async function withManager(manager: ComponentProcess, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    process.stderr.write(`controller manager log:\n${manager.log.slice(-20_000)}\n`);
    throw error;
  } finally {
    await manager.kill();
  }
}
