import { findResource, RESOURCES, SYSTEM_PRIORITY_CLASSES, apiVersionOf, type ResourceType } from '@k8ts/apimachinery';
import type { Logger } from 'pino';
import { EtcdClient } from './etcd_client.js';
import type { DefaultTolerationSeconds } from './admission.js';
import { ApiServerMetrics } from './metrics.js';
import { ObjectStore, type KubeObject } from './object_store.js';
import type { NodeLogs } from './pod_logs.js';
import { ResourceService } from './resource_service.js';
import { RestHandler } from './rest/handler.js';
import { ResourceWatchCache } from './watch_cache.js';

export interface ApiServerConfig {
  /** etcd v3 endpoints (host:port or http://host:port): k8ts-store members or real etcd. */
  readonly etcdServers: readonly string[];
  /** host:port clients reach this server at. */
  readonly serverAddress: string;
  readonly logger: Logger;
  readonly bookmarkIntervalMs?: number;
  /** Pod logs come from the nodes' agents over NATS. */
  readonly podLogs?: NodeLogs;
  /** The DefaultTolerationSeconds admission plugin's seconds (upstream's 300 s for each when not given). */
  readonly defaultTolerationSeconds?: DefaultTolerationSeconds;
}

/** The namespaces kube-apiserver makes sure exist at start. */
const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/**
 * One API server replica: stateless over the store, so any number can run side by side. It holds
 * a watch cache per resource (one store watch each) and serves the REST API from `handler`.
 */
export class ApiServer {
  readonly etcd: EtcdClient;
  readonly store: ObjectStore;
  readonly service: ResourceService;
  readonly caches = new Map<ResourceType, ResourceWatchCache>();
  readonly rest: RestHandler;

  constructor(config: ApiServerConfig) {
    this.etcd = new EtcdClient(config.etcdServers);
    this.store = new ObjectStore(this.etcd);
    for (const type of RESOURCES) this.caches.set(type, new ResourceWatchCache(type, this.etcd, config.logger));
    this.service = new ResourceService(
      this.store,
      () => new Date(),
      (type, namespace, name) => this.caches.get(type)?.cached(namespace, name),
      (type) => this.caches.get(type)?.list(),
      config.defaultTolerationSeconds,
    );
    this.rest = new RestHandler({
      service: this.service,
      caches: this.caches,
      logger: config.logger,
      serverAddress: config.serverAddress,
      ...(config.bookmarkIntervalMs === undefined ? {} : { bookmarkIntervalMs: config.bookmarkIntervalMs }),
      storeHealthy: () => this.storeHealthy(),
      metrics: new ApiServerMetrics(),
      ...(config.podLogs === undefined ? {} : { podLogs: config.podLogs }),
    });
  }

  /** Creates the system namespaces and PriorityClasses if missing and fills the watch caches. */
  async start(): Promise<void> {
    await this.etcd.followLeader();
    this.etcd.onMoved(() => {
      for (const cache of this.caches.values()) cache.moveStream();
    });
    const namespaces = findResource('', 'v1', 'namespaces') as ResourceType;
    for (const name of SYSTEM_NAMESPACES) await this.ensureExists(namespaces, { metadata: { name } });
    // kube-apiserver's scheduling/bootstrap-system-priority-classes post-start hook. An existing
    // class is left as it is; through the API, so defaulting, validation and admission apply.
    const priorityClasses = findResource('scheduling.k8s.io', 'v1', 'priorityclasses') as ResourceType;
    for (const { name, value, description } of SYSTEM_PRIORITY_CLASSES) {
      await this.ensureExists(priorityClasses, { apiVersion: apiVersionOf(priorityClasses), kind: priorityClasses.kind, metadata: { name }, value, description });
    }
    await Promise.all([...this.caches.values()].map((cache) => cache.start()));
  }

  /** Creates an object unless it exists; replicas starting together may race, and one wins. */
  private async ensureExists(type: ResourceType, object: KubeObject): Promise<void> {
    try {
      await this.service.create(type, undefined, object, { fieldManager: 'kube-apiserver' });
    } catch (error) {
      if ((error as { reason?: string }).reason !== 'AlreadyExists') throw error;
    }
  }

  stop(): void {
    for (const cache of this.caches.values()) cache.stop();
    this.etcd.close();
  }

  private async storeHealthy(): Promise<boolean> {
    try {
      await this.etcd.range({ key: Buffer.from('/registry/health') });
      return true;
    } catch {
      return false;
    }
  }
}
