/**
 * The ServiceAccount controller (upstream pkg/controller/serviceaccount): every active namespace
 * has a `default` ServiceAccount, created when the namespace appears and again whenever it is
 * deleted. Namespaces that are not Active (Terminating) get nothing; a create refused because the
 * namespace started terminating meanwhile is dropped. The account's content is the user's: an
 * existing `default` is never changed.
 */
import type { Lister, RateLimitingQueue } from '@k8ts/client';
import { isAlreadyExists } from '@k8ts/client';
import type { Namespace, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import { isNamespaceTerminating } from '../framework/namespace_terminating.js';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { runWorkers } from '../framework/run_workers.js';

/** The service account every namespace gets (kube-controller-manager ensures just this one). */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

/** Whether the controller should make sure of a namespace's accounts at all. */
export function namespaceWantsAccounts(namespace: Namespace | undefined): boolean {
  return namespace !== undefined && namespace.status?.phase === 'Active' && namespace.metadata?.deletionTimestamp === undefined;
}

export class ServiceAccountsController implements Controller {
  private readonly queue: RateLimitingQueue<string>;
  private readonly namespaces: Lister<Namespace>;
  private readonly accounts: Lister<ServiceAccount>;
  private readonly logger: Logger;

  constructor(
    private readonly context: ControllerContext,
    private readonly workers: number,
  ) {
    this.queue = context.newQueue('serviceaccount');
    this.logger = context.logger.child({ controller: 'serviceaccount' });
    const namespaces = context.informers.informerFor<Namespace>('', 'v1', 'namespaces');
    // Only the accounts this controller ensures are cached, not every account of the cluster.
    const accounts = context.informers.informerFor<ServiceAccount>('', 'v1', 'serviceaccounts', {
      fieldSelector: `metadata.name=${DEFAULT_SERVICE_ACCOUNT}`,
    });
    this.namespaces = namespaces.lister();
    this.accounts = accounts.lister();
    const enqueue = (namespace: Namespace): void => void this.queue.add(namespace.metadata?.name ?? '');
    namespaces.addEventHandler({ onAdd: enqueue, onUpdate: (_, namespace) => enqueue(namespace) });
    accounts.addEventHandler({ onDelete: (account) => void this.queue.add(account.metadata?.namespace ?? '') });
  }

  async run(signal: AbortSignal): Promise<void> {
    await runWorkers({ informers: this.context.informers, queue: this.queue, workers: this.workers, sync: (key) => this.sync(key), signal, logger: this.logger });
  }

  async sync(namespaceName: string): Promise<void> {
    if (!namespaceWantsAccounts(this.namespaces.get(namespaceName))) return;
    if (this.accounts.get(DEFAULT_SERVICE_ACCOUNT, namespaceName) !== undefined) return;
    const client = this.context.client.resource<ServiceAccount>('', 'v1', 'serviceaccounts').namespace(namespaceName);
    try {
      await client.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace: namespaceName } });
    } catch (error) {
      // A lagging cache (it exists already) or a namespace now terminating: nothing to do.
      if (!isAlreadyExists(error) && !isNamespaceTerminating(error)) throw error;
    }
  }
}
