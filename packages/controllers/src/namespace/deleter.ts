import { formatTime, type ResourceType } from '@k8ts/apimachinery';
import { ignoreNotFound, isConflict, isNotFound, type ApiClient, type KubeObject, type ResourceClient } from '@k8ts/client';
import type { Clock } from '@k8ts/base';
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import { isPodTerminal } from '../framework/pods.js';
import { NamespaceConditionUpdater } from './conditions.js';
import { gvrText, namespacedDeletableResources, resourceLabel } from './resources.js';

/** The finalizer in spec.finalizers that is this controller's to remove. */
export const KUBERNETES_FINALIZER = 'kubernetes';
/** Upstream's guess for how long content held by finalizers takes to go. */
export const FINALIZER_ESTIMATE_SECONDS = 15;

/** Content remains that is on its way out (graceful deletion, finalizers): look again in about `estimateSeconds`. */
export class ResourcesRemainingError extends Error {
  constructor(readonly estimateSeconds: number) {
    super(`some content remains in the namespace, estimate ${estimateSeconds} seconds before it is removed`);
  }
}

type NamespaceObject = Namespace & KubeObject;

interface ResourceOutcome {
  /** Seconds until what remains should be gone (0: nothing is expected to go by itself). */
  readonly estimateSeconds: number;
  readonly remaining: number;
  readonly finalizers: ReadonlyMap<string, number>;
  readonly error?: string;
}

/**
 * Empties a terminating namespace and releases it, as upstream's namespacedResourcesDeleter:
 *  1. reads the namespace live (gone, or not terminating: nothing to do) and makes sure its phase
 *     is Terminating;
 *  2. for every namespaced resource deletes the collection (Background propagation, so the
 *     garbage collector adds no orphan finalizer), then lists what remains — pods still in their
 *     graceful deletion, objects held by finalizers;
 *  3. writes the namespace's deletion conditions;
 *  4. when nothing remains, removes `kubernetes` from spec.finalizers, and the API server deletes
 *     the namespace once that list (and metadata.finalizers) is empty.
 * Every step reads the live state first, so a pass that dies half-way is simply done again.
 */
export class NamespacedResourcesDeleter {
  private readonly namespaces: ResourceClient<NamespaceObject>;
  /** Resources found not to support deletecollection or list (upstream's operation cache). */
  private readonly unsupported = new Set<string>();

  constructor(
    private readonly client: ApiClient,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly resources: readonly ResourceType[] = namespacedDeletableResources(),
  ) {
    this.namespaces = client.resource<NamespaceObject>('', 'v1', 'namespaces');
  }

  /** Throws ResourcesRemainingError when content is still going; other errors to be retried with backoff. */
  async delete(name: string): Promise<void> {
    let namespace = await this.getNamespace(name);
    if (namespace?.metadata?.deletionTimestamp === undefined) return;
    namespace = await this.retryOnConflict(namespace, (current) => this.markTerminating(current));
    if (namespace?.metadata?.deletionTimestamp === undefined) return;
    if ((namespace.spec?.finalizers ?? []).length === 0) return;
    const estimateSeconds = await this.deleteAllContent(namespace);
    if (estimateSeconds > 0) throw new ResourcesRemainingError(estimateSeconds);
    await this.retryOnConflict(namespace, (current) => this.finalize(current));
  }

  private getNamespace(name: string): Promise<NamespaceObject | undefined> {
    return ignoreNotFound(this.namespaces.get(name));
  }

  /**
   * Runs `write` on the namespace, on a fresh copy after each Conflict; undefined when the
   * namespace is gone. A namespace re-created under the name (another uid) is not ours to touch.
   */
  private async retryOnConflict(namespace: NamespaceObject, write: (current: NamespaceObject) => Promise<NamespaceObject>): Promise<NamespaceObject | undefined> {
    let current = namespace;
    for (;;) {
      try {
        return await write(current);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        if (!isConflict(error)) throw error;
      }
      const latest = await this.getNamespace(current.metadata?.name ?? '');
      if (latest === undefined) return undefined;
      if (latest.metadata?.uid !== current.metadata?.uid) throw new Error('namespace uid has changed across retries');
      current = latest;
    }
  }

  private async markTerminating(namespace: NamespaceObject): Promise<NamespaceObject> {
    if (namespace.status?.phase === 'Terminating') return namespace;
    return this.namespaces.updateStatus({ ...namespace, status: { ...namespace.status, phase: 'Terminating' } });
  }

  /**
   * Removes `kubernetes` from spec.finalizers through the namespace's finalize subresource (an
   * Update keeps spec.finalizers, as upstream), conditional on the resourceVersion read.
   */
  private async finalize(namespace: NamespaceObject): Promise<NamespaceObject> {
    const finalizers = [...new Set((namespace.spec?.finalizers ?? []).filter((finalizer) => finalizer !== KUBERNETES_FINALIZER))].sort();
    if (finalizers.length === (namespace.spec?.finalizers ?? []).length) return namespace;
    this.logger.info({ namespace: namespace.metadata?.name }, 'namespace empty; removing the kubernetes finalizer');
    return this.namespaces.finalize({ ...namespace, spec: { ...namespace.spec, finalizers } });
  }

  /** Deletes every resource's content; the longest estimate of what is still going (0: all gone). */
  private async deleteAllContent(namespace: NamespaceObject): Promise<number> {
    const name = namespace.metadata?.name as string;
    const conditions = new NamespaceConditionUpdater(formatTime(this.clock.now()));
    const remainingByResource = new Map<string, number>();
    const remainingByFinalizer = new Map<string, number>();
    const errors: string[] = [];
    let estimateSeconds = 0;
    for (const type of this.resources) {
      const outcome = await this.deleteAllContentOf(type, name);
      if (outcome.error !== undefined) errors.push(outcome.error);
      estimateSeconds = Math.max(estimateSeconds, outcome.estimateSeconds);
      if (outcome.remaining === 0) continue;
      remainingByResource.set(resourceLabel(type), outcome.remaining);
      for (const [finalizer, count] of outcome.finalizers) remainingByFinalizer.set(finalizer, (remainingByFinalizer.get(finalizer) ?? 0) + count);
    }
    conditions.deleteContentFailed(errors);
    conditions.contentTotals({ remainingByResource, remainingByFinalizer });
    // Always stated: a pass that went well clears what an earlier one reported.
    const status = structuredClone(namespace.status ?? {});
    if (conditions.update(status)) {
      try {
        await this.namespaces.updateStatus({ ...namespace, status });
      } catch (error) {
        this.logger.warn({ namespace: name, err: (error as Error).message }, "couldn't update the namespace's status conditions");
      }
    }
    if (errors.length > 0) throw new Error(errors.join('; '));
    return estimateSeconds;
  }

  private async deleteAllContentOf(type: ResourceType, namespace: string): Promise<ResourceOutcome> {
    const resource = this.client.resource<KubeObject>(type.group, type.version, type.resource).namespace(namespace);
    let estimateSeconds = 0;
    try {
      if (type.group === '' && type.resource === 'pods') estimateSeconds = await this.estimatePodsGracefulTermination(namespace);
      if (!(await this.deleteCollection(type, resource))) await this.deleteEachItem(type, resource);
      const items = await this.listItems(type, resource);
      if (items === undefined || items.length === 0) return { estimateSeconds: 0, remaining: 0, finalizers: new Map() };
      const finalizers = new Map<string, number>();
      for (const item of items) for (const finalizer of item.metadata?.finalizers ?? []) finalizers.set(finalizer, (finalizers.get(finalizer) ?? 0) + 1);
      if (estimateSeconds !== 0) return { estimateSeconds, remaining: items.length, finalizers };
      // Objects held by finalizers are normal: give their owners time.
      if (finalizers.size > 0) return { estimateSeconds: FINALIZER_ESTIMATE_SECONDS, remaining: items.length, finalizers };
      return { estimateSeconds, remaining: items.length, finalizers, error: `unexpected items still remain in namespace: ${namespace} for gvr: ${gvrText(type)}` };
    } catch (error) {
      return { estimateSeconds, remaining: 0, finalizers: new Map(), error: (error as Error).message };
    }
  }

  /** The longest termination grace period of the namespace's running pods (upstream's estimate for pods). */
  private async estimatePodsGracefulTermination(namespace: string): Promise<number> {
    const { items } = await this.client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace(namespace).list();
    let estimate = 0;
    for (const pod of items) {
      if (isPodTerminal(pod)) continue;
      estimate = Math.max(estimate, pod.spec?.terminationGracePeriodSeconds ?? 0);
    }
    return estimate;
  }

  /** false when the resource does not support deletecollection (then each item is deleted). */
  private async deleteCollection(type: ResourceType, resource: ResourceClient<KubeObject>): Promise<boolean> {
    const key = `deletecollection ${gvrText(type)}`;
    if (!type.verbs.includes('deletecollection') || this.unsupported.has(key)) return false;
    try {
      // Background: the garbage collector must not add orphan finalizers to what is deleted here.
      await resource.deleteCollection({}, { propagationPolicy: 'Background' });
      return true;
    } catch (error) {
      if (!isNotSupported(error)) throw error;
      this.unsupported.add(key);
      return false;
    }
  }

  private async deleteEachItem(type: ResourceType, resource: ResourceClient<KubeObject>): Promise<void> {
    for (const item of (await this.listItems(type, resource)) ?? []) {
      await ignoreNotFound(resource.delete(item.metadata?.name ?? '', { propagationPolicy: 'Background' }));
    }
  }

  /** undefined when the resource cannot be listed. */
  private async listItems(type: ResourceType, resource: ResourceClient<KubeObject>): Promise<KubeObject[] | undefined> {
    const key = `list ${gvrText(type)}`;
    if (!type.verbs.includes('list') || this.unsupported.has(key)) return undefined;
    try {
      return (await resource.list()).items;
    } catch (error) {
      if (!isNotSupported(error)) throw error;
      this.unsupported.add(key);
      return undefined;
    }
  }
}

/** MethodNotAllowed, or NotFound for the collection itself (upstream treats both as "not supported"). */
function isNotSupported(error: unknown): boolean {
  const reason = (error as { reason?: string }).reason;
  return reason === 'MethodNotAllowed' || reason === 'NotFound';
}
