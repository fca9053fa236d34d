/**
 * The root CA publisher (upstream pkg/controller/certificates/rootcacertpublisher): a
 * `kube-root-ca.crt` ConfigMap in every namespace, created when the namespace appears, recreated
 * when deleted, and put back when its `ca.crt` or description annotation is edited.
 *
 * The bundle is `options.rootCaBundle` (what the controller manager is given, `--root-ca-file`
 * upstream); k8ts has no cluster CA yet, so without it `ca.crt` is empty — what upstream publishes
 * when kube-controller-manager has no CA data. Namespaces that are gone or terminating are skipped.
 */
import type { Lister, RateLimitingQueue } from '@k8ts/client';
import { isNotFound } from '@k8ts/client';
import type { ConfigMap, Namespace } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import { isNamespaceTerminating } from '../framework/namespace_terminating.js';
import type { Controller, ControllerContext } from '../framework/controller.js';
import { runWorkers } from '../framework/run_workers.js';
import { ROOT_CA_CONFIG_MAP, newRootCaConfigMap, repairedRootCaConfigMap } from './config_map.js';

export class RootCaCertPublisher implements Controller {
  private readonly queue: RateLimitingQueue<string>;
  private readonly namespaces: Lister<Namespace>;
  private readonly configMaps: Lister<ConfigMap>;
  private readonly logger: Logger;
  private readonly caBundle: string;

  constructor(
    private readonly context: ControllerContext,
    private readonly workers: number,
  ) {
    this.queue = context.newQueue('root_ca_cert_publisher');
    this.logger = context.logger.child({ controller: 'root-ca-cert-publisher' });
    this.caBundle = context.options.rootCaBundle ?? '';
    const namespaces = context.informers.informerFor<Namespace>('', 'v1', 'namespaces');
    // Only the ConfigMaps this controller keeps are cached, not every ConfigMap of the cluster.
    const configMaps = context.informers.informerFor<ConfigMap>('', 'v1', 'configmaps', { fieldSelector: `metadata.name=${ROOT_CA_CONFIG_MAP}` });
    this.namespaces = namespaces.lister();
    this.configMaps = configMaps.lister();
    const enqueueNamespace = (namespace: Namespace): void => void this.queue.add(namespace.metadata?.name ?? '');
    namespaces.addEventHandler({
      onAdd: enqueueNamespace,
      onUpdate: (_, namespace) => {
        if (namespace.status?.phase === 'Active') enqueueNamespace(namespace);
      },
    });
    const enqueueOwnNamespace = (configMap: ConfigMap): void => void this.queue.add(configMap.metadata?.namespace ?? '');
    configMaps.addEventHandler({ onUpdate: (_, configMap) => enqueueOwnNamespace(configMap), onDelete: enqueueOwnNamespace });
  }

  async run(signal: AbortSignal): Promise<void> {
    await runWorkers({ informers: this.context.informers, queue: this.queue, workers: this.workers, sync: (key) => this.sync(key), signal, logger: this.logger });
  }

  async sync(namespaceName: string): Promise<void> {
    const namespace = this.namespaces.get(namespaceName);
    if (namespace === undefined || namespace.metadata?.deletionTimestamp !== undefined) return;
    const client = this.context.client.resource<ConfigMap>('', 'v1', 'configmaps').namespace(namespaceName);
    const current = this.configMaps.get(ROOT_CA_CONFIG_MAP, namespaceName);
    if (current === undefined) {
      try {
        await client.create(newRootCaConfigMap(namespaceName, this.caBundle));
      } catch (error) {
        // Gone or terminating namespaces are not retried. AlreadyExists (the cache lags) is: by
        // then the cache holds the ConfigMap, and its content is checked.
        if (isNotFound(error) || isNamespaceTerminating(error)) return;
        throw error;
      }
      return;
    }
    const repaired = repairedRootCaConfigMap(current, this.caBundle);
    if (repaired !== undefined) await client.update(repaired);
  }
}
