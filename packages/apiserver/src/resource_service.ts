import { apiErrors, cloneJson, decodeAsTyped, fieldErrors, findResource, formatTime, TypedDecodeError, type ApiError, type ResourceType } from '@k8ts/apimachinery';
import { carryOverOnUpdate, checkBodyIdentity, initializeMetadata, type WriteSubresource } from './object_meta.js';
import { collectionPrefix, encodeContinue, keyAfter, objectKey, type KubeObject, type ListResult, type ObjectStore } from './object_store.js';
import {
  admitCreate,
  admitDefaultTolerationSeconds,
  admitPodPriority,
  admitPriorityClass,
  admitServiceCreate,
  admitServiceUpdate,
  isPods,
  isPriorityClasses,
  isServices,
  keepPodPriority,
  DEFAULT_TOLERATION_SECONDS,
  type DefaultTolerationSeconds,
  type PriorityClassLister,
} from './admission.js';
import { applyPatch, defaultObject, recordManager, validate, type PatchType } from './rules.js';

/** 9999-12-31T23:59:59Z: the last time a Kubernetes timestamp (RFC 3339, four-digit year) can hold. */
const LAST_RFC3339_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

export interface WriteOptions {
  /** dryRun=All: everything but the store write. */
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
  /** server-side apply: take fields other managers own. */
  readonly force?: boolean;
  /** Drop the fields the kind's schema does not declare, as kube-apiserver's decoder does (REST clients' writes). */
  readonly dropUnknownFields?: boolean;
  /** The caller decoded the body already (`decodeBody`), as the REST handler does to learn its unknown fields in the same walk. */
  readonly bodyDecoded?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  readonly preconditions?: { uid?: string; resourceVersion?: string };
}

export type DeleteResult = { readonly deleted: true; readonly object: KubeObject } | { readonly deleted: false; readonly object: KubeObject };

const NAMESPACES = findResource('', 'v1', 'namespaces') as ResourceType;
const PODS = findResource('', 'v1', 'pods') as ResourceType;
const PRIORITY_CLASSES = findResource('scheduling.k8s.io', 'v1', 'priorityclasses') as ResourceType;

/**
 * The verbs of the Kubernetes API on objects, independent of HTTP: what the REST handlers (and the
 * components' gRPC API) call. Every write runs the same steps as kube-apiserver's generic registry:
 * identity checks, metadata, defaulting, mutating admission, validation, validating admission, then
 * one conditional store write.
 */
export class ResourceService {
  constructor(
    private readonly store: ObjectStore,
    private readonly clock: () => Date = () => new Date(),
    /**
     * An object from a watch cache, when there is one: a first guess that saves a store read per
     * write (kube-apiserver does the same); the store's compare-and-swap catches a stale guess.
     */
    private readonly cached: (type: ResourceType, namespace: string | undefined, name: string) => KubeObject | undefined = () => undefined,
    /** All of a resource's objects from its watch cache, or undefined when there is no filled cache. */
    private readonly cachedList: (type: ResourceType) => readonly KubeObject[] | undefined = () => undefined,
    /** What the DefaultTolerationSeconds admission plugin gives pods (the apiserver's flags). */
    private readonly defaultTolerationSeconds: DefaultTolerationSeconds = DEFAULT_TOLERATION_SECONDS,
  ) {}

  /**
   * PriorityClasses as the Priority admission plugin reads them: from the watch cache when it has
   * them (kube's plugin reads an informer's), else from the store.
   */
  private readonly priorityClasses: PriorityClassLister = {
    get: async (name) => {
      const cached = this.cached(PRIORITY_CLASSES, undefined, name);
      if (cached !== undefined) return cached;
      // Not in the cache may mean not cached yet: then the store decides.
      try {
        return await this.store.get(PRIORITY_CLASSES, undefined, name);
      } catch (error) {
        if ((error as { reason?: string }).reason === 'NotFound') return undefined;
        throw error;
      }
    },
    list: async () => this.cachedList(PRIORITY_CLASSES) ?? (await this.store.list(PRIORITY_CLASSES, undefined)).items,
  };

  get(type: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject> {
    return this.store.get(type, namespace, name);
  }

  /**
   * A list, or one page of it, of the objects `filter` keeps. With a limit, pages are read from the
   * store until `limit` objects pass the filter (as kube-apiserver fills a page), all at the first
   * page's revision; the continue token then points after the last object returned.
   */
  async list(
    type: ResourceType,
    namespace: string | undefined,
    options: { limit?: number; continueToken?: string; filter?: (object: KubeObject) => boolean },
  ): Promise<ListResult> {
    const filter = options.filter;
    const limit = options.limit ?? 0;
    if (filter === undefined) return this.store.list(type, namespace, options);
    if (limit <= 0) {
      const all = await this.store.list(type, namespace, options.continueToken ? { continueToken: options.continueToken } : {});
      return { ...all, items: all.items.filter(filter) };
    }
    const items: KubeObject[] = [];
    let token = options.continueToken;
    let page: ListResult;
    do {
      page = await this.store.list(type, namespace, { limit, ...(token ? { continueToken: token } : {}) });
      items.push(...page.items.filter(filter));
      token = page.continueToken;
    } while (items.length < limit && token !== undefined);
    if (items.length <= limit) return { items, revision: page.revision, ...(token ? { continueToken: token } : {}) };
    const kept = items.slice(0, limit);
    const last = kept[kept.length - 1] as KubeObject;
    const start = objectKey(type, last.metadata?.namespace, last.metadata?.name ?? '');
    return { items: kept, revision: page.revision, continueToken: encodeContinue(keyAfter(start), collectionPrefix(type, namespace), page.revision) };
  }

  async create(type: ResourceType, namespace: string | undefined, body: unknown, options: WriteOptions = {}): Promise<KubeObject> {
    decodeBodyAsTyped(type, body, options);
    return this.createObject(type, namespace, body, options, false);
  }

  /** `applied`: the body comes from server-side apply, whose managedFields (operation Apply) stand. */
  private async createObject(type: ResourceType, namespace: string | undefined, body: unknown, options: WriteOptions, applied: boolean): Promise<KubeObject> {
    const object = checkBodyIdentity(type, body, namespace);
    if (type.namespaced && !object.metadata?.namespace) throw apiErrors.badRequest('the server could not find the requested resource: a namespace is required');
    // Admission names the object as the request did: kube expands generateName only after it.
    const admissionName = object.metadata?.name || object.metadata?.generateName || 'Unknown';
    const now = this.clock();
    initializeMetadata(type, object, now);
    defaultObject(type, object, 'create');
    if (!applied) recordManager(type, undefined, object, options.fieldManager ?? 'unknown', formatTime(now));
    // Mutating admission (Priority, DefaultTolerationSeconds), then validation, then validating admission.
    if (isPods(type)) {
      await admitPodPriority(object, admissionName, this.priorityClasses);
      admitDefaultTolerationSeconds(object, this.defaultTolerationSeconds);
    }
    // A Service's cluster IP and node ports: allocated before validation, as kube's service storage does.
    if (isServices(type)) await admitServiceCreate(object, this.store);
    const errors = validate(type, object, undefined);
    if (errors.length > 0) throw apiErrors.invalid(type, object.metadata?.name ?? '', errors);
    if (isPriorityClasses(type)) admitPriorityClass(object, admissionName, 'create', await this.priorityClasses.list());
    await this.checkNamespaceOpen(type, object);
    admitCreate(type, object);
    if (options.dryRun) return object;
    return this.store.create(type, object);
  }

  /** PUT: a whole object, conditional on its resourceVersion when the client sent one. */
  async update(type: ResourceType, namespace: string | undefined, name: string, body: unknown, subresource: WriteSubresource, options: WriteOptions = {}): Promise<KubeObject> {
    decodeBodyAsTyped(type, body, options);
    const object = checkBodyIdentity(type, body, namespace);
    if (object.metadata?.name !== undefined && object.metadata.name !== name) {
      throw apiErrors.badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`);
    }
    object.metadata = { ...object.metadata, name };
    const expected = object.metadata.resourceVersion;
    const admission = await this.updateAdmission(type);
    const result = await this.guaranteedUpdate(type, namespace, name, (current) => {
      if (expected !== undefined && expected !== '' && expected !== current.metadata?.resourceVersion) throw apiErrors.staleResourceVersion(type, name);
      return this.prepareUpdate(type, current, cloneJson(object), subresource, options, 'Update', admission);
    });
    return result.object;
  }

  async patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patchType: PatchType,
    body: unknown,
    subresource: WriteSubresource,
    options: WriteOptions = {},
  ): Promise<KubeObject> {
    const manager = options.fieldManager ?? (patchType === 'apply' ? undefined : 'unknown');
    if (manager === undefined) throw apiErrors.badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    if (patchType === 'apply') {
      try {
        await this.store.get(type, namespace, name);
      } catch (error) {
        if ((error as { reason?: string }).reason !== 'NotFound') throw error;
        // Apply creates what does not exist.
        const created = applyPatch(type, undefined, patchType, body, { manager, force: options.force ?? false, now: formatTime(this.clock()) });
        decodePatchedAsTyped(type, created, options);
        return this.createObject(type, namespace, { ...created, metadata: { ...created.metadata, name } }, { ...options, fieldManager: manager }, true);
      }
    }
    const admission = await this.updateAdmission(type);
    const result = await this.guaranteedUpdate(type, namespace, name, (current) => {
      const patched = applyPatch(type, current, patchType, body, { manager, force: options.force ?? false, now: formatTime(this.clock()) });
      decodePatchedAsTyped(type, patched, options);
      const expected = patched.metadata?.resourceVersion;
      if (expected !== undefined && expected !== current.metadata?.resourceVersion) throw apiErrors.staleResourceVersion(type, name);
      const identity = checkBodyIdentity(type, patched, namespace);
      if (identity.metadata?.name !== name) throw apiErrors.badRequest(`the name of the object (${identity.metadata?.name}) does not match the name on the URL (${name})`);
      return this.prepareUpdate(type, current, identity, subresource, { ...options, fieldManager: manager }, patchType === 'apply' ? 'Apply' : 'Update', admission);
    });
    return result.object;
  }

  /**
   * DELETE: immediate, or graceful (a pod on a node gets a deletionTimestamp and its kubelet
   * finishes it), or held by finalizers (the object stays, marked, until they are removed).
   */
  async delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    let deleted = false;
    const result = await this.guaranteedUpdate(type, namespace, name, (current) => {
      const meta = current.metadata ?? {};
      if (options.preconditions?.uid && options.preconditions.uid !== meta.uid) {
        throw apiErrors.conflict(type, name, `Precondition failed: UID in precondition: ${options.preconditions.uid}, UID in object meta: ${meta.uid}`);
      }
      if (options.preconditions?.resourceVersion && options.preconditions.resourceVersion !== meta.resourceVersion) {
        throw apiErrors.conflict(type, name, `Precondition failed: ResourceVersion in precondition: ${options.preconditions.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`);
      }
      const finalizers = [...(meta.finalizers ?? [])];
      if (options.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
      if (options.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
      const now = this.clock();
      if (type.resource === 'namespaces') {
        // A namespace always goes through Terminating: the namespace controller empties it first.
        meta.deletionTimestamp ??= formatTime(now);
        const status = (current['status'] ?? {}) as Record<string, unknown>;
        current['status'] = { ...status, phase: 'Terminating' };
        const specFinalizers = ((current['spec'] as { finalizers?: string[] } | undefined)?.finalizers ?? []).length;
        if (specFinalizers === 0 && finalizers.length === 0) return this.finishDelete(options, () => (deleted = true), current);
        meta.finalizers = finalizers;
        return options.dryRun ? this.abort(current) : current;
      }
      const grace = this.gracePeriod(type, current, options);
      if (finalizers.length > 0 || grace > 0) {
        if (finalizers.length > 0) meta.finalizers = finalizers;
        else delete meta.finalizers;
        if (meta.deletionTimestamp === undefined || grace < (meta.deletionGracePeriodSeconds ?? Infinity)) {
          // A grace period of up to 2^63-1 s is accepted; the timestamp stops at the last one RFC 3339 can write.
          meta.deletionTimestamp = formatTime(new Date(Math.min(now.getTime() + grace * 1000, LAST_RFC3339_MS)));
          meta.deletionGracePeriodSeconds = grace;
        }
        if (finalizers.length === 0 && grace === 0) return this.finishDelete(options, () => (deleted = true), current);
        return options.dryRun ? this.abort(current) : current;
      }
      return this.finishDelete(options, () => (deleted = true), current);
    });
    return { deleted: deleted || result.deleted, object: result.object };
  }

  /**
   * pods/binding: puts a pod on a node, once. A pod that already has a node is a Conflict, so two
   * schedulers that both believe they lead can never bind one pod twice.
   */
  async bind(namespace: string, name: string, node: string): Promise<KubeObject> {
    const binding = { group: '', resource: 'pods/binding' };
    const { object } = await this.guaranteedUpdate(PODS, namespace, name, (pod) => {
      const spec = (pod['spec'] ?? {}) as { nodeName?: string };
      if (spec.nodeName) throw apiErrors.conflict(binding, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
      if (pod.metadata?.deletionTimestamp) throw apiErrors.conflict(binding, name, `pod ${name} is being deleted, cannot be assigned to a host`);
      spec.nodeName = node;
      pod['spec'] = spec;
      const status = (pod['status'] ?? {}) as { conditions?: { type: string }[] };
      const conditions = (status.conditions ?? []).filter((condition) => condition.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: formatTime(this.clock()) } as { type: string });
      pod['status'] = { ...status, conditions };
      return pod;
    });
    return object;
  }

  /** DELETE on a collection: each matching object as its own delete. */
  async deleteCollection(type: ResourceType, namespace: string | undefined, matches: (object: KubeObject) => boolean, options: DeleteOptions = {}): Promise<KubeObject[]> {
    const { items } = await this.store.list(type, namespace);
    const done: KubeObject[] = [];
    for (const item of items.filter(matches)) {
      try {
        done.push((await this.delete(type, item.metadata?.namespace, item.metadata?.name ?? '', options)).object);
      } catch (error) {
        if ((error as { reason?: string }).reason !== 'NotFound') throw error;
      }
    }
    return done;
  }

  /** The store's read-change-write loop; a dry run's change ends it early with its would-be result. */
  private async guaranteedUpdate(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    change: (current: KubeObject) => KubeObject | undefined,
  ): Promise<{ object: KubeObject; deleted: boolean }> {
    try {
      return await this.store.guaranteedUpdate(type, namespace, name, change, this.cached(type, namespace, name));
    } catch (error) {
      if (error instanceof DryRunResult) return { object: error.object, deleted: error.deleted };
      throw error;
    }
  }

  private prepareUpdate(
    type: ResourceType,
    current: KubeObject,
    next: KubeObject,
    subresource: WriteSubresource,
    options: WriteOptions,
    operation: 'Update' | 'Apply' = 'Update',
    admission: UpdateAdmission = {},
  ): KubeObject | undefined {
    carryOverOnUpdate(type, current, next, subresource);
    defaultObject(type, next, 'update');
    if (operation === 'Update') recordManager(type, current, next, options.fieldManager ?? 'unknown', formatTime(this.clock()));
    // Admission plugins leave subresources alone.
    if (subresource === undefined && isPods(type)) {
      keepPodPriority(next, current);
      admitDefaultTolerationSeconds(next, this.defaultTolerationSeconds);
    }
    if (subresource === undefined && admission.services !== undefined) admitServiceUpdate(next, current, admission.services);
    const errors = validate(type, next, current);
    if (errors.length > 0) throw apiErrors.invalid(type, next.metadata?.name ?? '', errors);
    if (subresource === undefined && admission.priorityClasses !== undefined) {
      admitPriorityClass(next, next.metadata?.name ?? '', 'update', admission.priorityClasses);
    }
    const meta = next.metadata ?? {};
    // The last finalizer removed from an object being deleted: it goes now.
    if (meta.deletionTimestamp !== undefined && (meta.finalizers ?? []).length === 0 && !this.waitsForGrace(type, next)) {
      return options.dryRun ? this.abort(current) : undefined;
    }
    if (options.dryRun) return this.abort(next);
    return next;
  }

  /**
   * What an update's admission reads before the store's read-change-write loop, whose steps cannot
   * wait: the PriorityClasses, for the one-global-default check; the Services, for allocations.
   */
  private async updateAdmission(type: ResourceType): Promise<UpdateAdmission> {
    if (isPriorityClasses(type)) return { priorityClasses: await this.priorityClasses.list() };
    // Services: what the others hold, for the allocations a type change needs.
    if (isServices(type)) return { services: (await this.store.list(type, undefined)).items };
    return {};
  }

  private waitsForGrace(type: ResourceType, object: KubeObject): boolean {
    if (type.resource === 'namespaces') return ((object['spec'] as { finalizers?: string[] } | undefined)?.finalizers ?? []).length > 0;
    return (object.metadata?.deletionGracePeriodSeconds ?? 0) > 0;
  }

  /** Grace for a delete: pods on a node get their termination grace period; everything else none. */
  private gracePeriod(type: ResourceType, current: KubeObject, options: DeleteOptions): number {
    if (type.resource !== 'pods') return 0;
    const spec = (current['spec'] ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
    const phase = (current['status'] as { phase?: string } | undefined)?.phase;
    if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
    return Math.max(0, options.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30);
  }

  private finishDelete(options: DeleteOptions, markDeleted: () => void, current: KubeObject): undefined {
    markDeleted();
    if (options.dryRun) throw new DryRunResult(current, true);
    return undefined;
  }

  private abort(object: KubeObject): never {
    throw new DryRunResult(object, false);
  }

  private async checkNamespaceOpen(type: ResourceType, object: KubeObject): Promise<void> {
    if (!type.namespaced) return;
    const namespace = object.metadata?.namespace as string;
    // Not in the cache may mean not cached yet: then the store decides.
    const found = this.cached(NAMESPACES, undefined, namespace) ?? (await this.store.get(NAMESPACES, undefined, namespace));
    if (found.metadata?.deletionTimestamp !== undefined) {
      // As kube's NamespaceLifecycle admission: the cause says why, for clients that check it.
      throw apiErrors.forbidden(type, object.metadata?.name ?? '', `unable to create new content in namespace ${namespace} because it is being terminated`, [
        { reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' },
      ]);
    }
  }
}

interface UpdateAdmission {
  readonly priorityClasses?: readonly KubeObject[];
  readonly services?: readonly KubeObject[];
}

/** A dry run stops a guaranteed update before its write, carrying what would have been written. */
class DryRunResult extends Error {
  constructor(
    readonly object: KubeObject,
    readonly deleted: boolean,
  ) {
    super('dry run');
  }
}

/**
 * A create or update body read as kube-apiserver decodes it into the kind's Go struct (a value of the
 * wrong JSON type refused, nulls as zero values, unknown fields dropped when asked), in one walk that
 * also names its unknown fields (for fieldValidation). A body that does not decode gets the 400 its
 * handlers' transformDecodeError answers: returned, not thrown, for the caller to answer Strict's
 * unknown fields first, as kube does.
 */
export function decodeBody(type: ResourceType, body: unknown, options: WriteOptions): { unknownFields: readonly string[]; refusal?: ApiError } {
  try {
    return decodeAsTyped(type, body, { dropUnknownFields: options.dropUnknownFields === true });
  } catch (error) {
    if (!(error instanceof TypedDecodeError)) throw error;
    const refusal = apiErrors.badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${error.message}`);
    return { unknownFields: error.unknownFields, refusal };
  }
}

function decodeBodyAsTyped(type: ResourceType, body: unknown, options: WriteOptions): void {
  if (options.bodyDecoded === true) return;
  const { refusal } = decodeBody(type, body, options);
  if (refusal !== undefined) throw refusal;
}

/** A patch's result decoded the same way: 422 Invalid on "patch", as kube's patch handler answers. */
function decodePatchedAsTyped(type: ResourceType, patched: KubeObject, options: WriteOptions): void {
  try {
    decodeAsTyped(type, patched, { dropUnknownFields: options.dropUnknownFields === true });
  } catch (error) {
    if (!(error instanceof TypedDecodeError)) throw error;
    throw apiErrors.invalid({ group: '', kind: '' }, '', [fieldErrors.invalid('patch', JSON.stringify(patched), error.message)]);
  }
}
