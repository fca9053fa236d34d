import { isExpired, type ApiClient, type KubeObject, type Watch } from '@k8ts/client';
import type { Pod } from 'kubernetes-types/core/v1.js';

/** One pod as it was first seen: its uid, name and controller owner's uid ('' for an orphan). */
export interface PodCreation {
  readonly uid: string;
  readonly name: string;
  readonly ownerUid: string;
}

/**
 * Every pod ever created in a namespace, per controller owner, from a watch kept open over a whole
 * test (resumed from the last resourceVersion when it ends or breaks; listed again after a 410),
 * so a pod created and deleted again still counts. The referee of "no pod created twice": it reads
 * the API only, never the controller's state.
 */
export class PodCreationLog {
  readonly creations: PodCreation[] = [];
  private readonly seen = new Set<string>();
  private readonly waiters: { check: () => boolean; wake: () => void }[] = [];
  private watch: Watch<Pod & KubeObject> | undefined;
  private stopped = false;
  private readonly running: Promise<void>;

  private constructor(
    private readonly client: ApiClient,
    private readonly namespace: string,
    private resourceVersion: string,
  ) {
    this.running = this.follow();
  }

  /** Starts logging; pods already there count as created before the log began. */
  static async start(client: ApiClient, namespace: string): Promise<PodCreationLog> {
    const pods = client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace(namespace);
    const list = await pods.list();
    const log = new PodCreationLog(client, namespace, list.resourceVersion);
    for (const pod of list.items) log.record(pod);
    return log;
  }

  /** Pods ever created with this controller owner. */
  countFor(ownerUid: string): number {
    return this.creations.filter((creation) => creation.ownerUid === ownerUid).length;
  }

  /** Resolves once `check` holds after some creation (or at once if it holds now). */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((wake) => this.waiters.push({ check, wake }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.close();
    await this.running;
  }

  private record(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (uid === '' || this.seen.has(uid)) return;
    this.seen.add(uid);
    const owner = pod.metadata?.ownerReferences?.find((reference) => reference.controller === true);
    this.creations.push({ uid, name: pod.metadata?.name ?? '', ownerUid: owner?.uid ?? '' });
    for (const waiter of this.waiters.filter((w) => w.check())) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.wake();
    }
  }

  private async follow(): Promise<void> {
    const pods = this.client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace(this.namespace);
    while (!this.stopped) {
      try {
        this.watch = pods.watch({ resourceVersion: this.resourceVersion, allowBookmarks: true });
        for await (const event of this.watch) {
          if (event.type === 'ADDED') this.record(event.object);
          const version = event.object.metadata?.resourceVersion;
          if (version) this.resourceVersion = version;
        }
      } catch (error) {
        if (this.stopped) return;
        if (isExpired(error)) {
          const list = await pods.list().catch(() => undefined);
          if (list !== undefined) {
            for (const pod of list.items) this.record(pod);
            this.resourceVersion = list.resourceVersion;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}
