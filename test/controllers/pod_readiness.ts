import { formatTime } from '@k8ts/apimachinery';
import { isNotFound, SharedInformer, type ApiClient, type KubeObject } from '@k8ts/client';
import type { Pod } from 'kubernetes-types/core/v1.js';

type PodObject = Pod & KubeObject;

/**
 * Stands in for one kubelet status report: the pod Running, its Ready condition `ready` (default
 * true) since `since` (default now), and with `ip` as its podIP and only podIPs when given.
 */
export async function reportPodRunning(client: ApiClient, namespace: string, name: string, report: { ready?: boolean; since?: Date; ip?: string } = {}): Promise<void> {
  const ready = { type: 'Ready', status: report.ready === false ? 'False' : 'True', lastTransitionTime: formatTime(report.since ?? new Date()) };
  const addresses = report.ip === undefined ? {} : { podIP: report.ip, podIPs: [{ ip: report.ip }] };
  const status = { phase: 'Running', ...addresses, conditions: [ready] };
  await client.resource<PodObject>('', 'v1', 'pods').namespace(namespace).patch(name, 'merge', { status }, { status: true });
}

/**
 * Stands in for the kubelet in the controllers' suites (no node runs pods yet): every pod that
 * appears in `namespace` — and that `accept` accepts — is reported Running and Ready through the
 * pods' status subresource, as a kubelet reports a started pod whose readiness probe passed.
 * Reports go one at a time, in the order the pods appear; `accepting()` changes which pods get
 * them (a readiness that is held back, then given). `stop()` fails if a report failed for
 * another reason than the pod being gone.
 */
export class PodReadiness {
  private chain: Promise<void> = Promise.resolve();
  private readonly marked = new Set<string>();
  private readonly failures: Error[] = [];

  private constructor(
    private readonly client: ApiClient,
    private readonly informer: SharedInformer<PodObject>,
    private accept: (pod: Pod) => boolean,
  ) {}

  static async start(client: ApiClient, namespace: string, accept: (pod: Pod) => boolean = () => true): Promise<PodReadiness> {
    const informer = new SharedInformer<PodObject>(client.resource<PodObject>('', 'v1', 'pods').namespace(namespace));
    const readiness = new PodReadiness(client, informer, accept);
    informer.addEventHandler({ onAdd: (pod) => readiness.seen(pod), onUpdate: (_old, pod) => readiness.seen(pod) });
    informer.run();
    await informer.waitForSync();
    return readiness;
  }

  /** From now on reports the pods `accept` accepts, those already seen included. */
  accepting(accept: (pod: Pod) => boolean): void {
    this.accept = accept;
    for (const pod of this.informer.indexer.list()) this.seen(pod);
  }

  async stop(): Promise<void> {
    await this.informer.stop();
    await this.chain;
    if (this.failures.length > 0) throw this.failures[0];
  }

  private seen(pod: PodObject): void {
    const uid = pod.metadata?.uid ?? '';
    const ready = pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True');
    if (ready || this.marked.has(uid) || pod.metadata?.deletionTimestamp !== undefined || !this.accept(pod)) return;
    this.marked.add(uid);
    this.chain = this.chain.then(() => this.markReady(pod));
  }

  private async markReady(pod: PodObject): Promise<void> {
    try {
      await reportPodRunning(this.client, pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
    } catch (error) {
      if (!isNotFound(error)) this.failures.push(error as Error);
    }
  }
}
