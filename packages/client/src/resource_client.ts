import { ApiError, type Status } from '@k8ts/apimachinery';
import type { ApiDeleteResponse, ApiListResponse, ApiObjectResponse, ApiResourceRef, ApiWatchEvent } from '@k8ts/proto';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { ApiTransport } from './transport.js';
import { toApiError } from './errors.js';

/** What every object has; kubernetes-types' kinds (Pod, Node, Lease, …) all fit. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface Gvr {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
}

export interface ObjectList<T> {
  readonly items: T[];
  /** The revision the list was read at: watch from here to miss nothing. */
  readonly resourceVersion: string;
  readonly continue?: string;
  readonly remainingItemCount?: number;
}

export interface WatchOptions {
  /** Changes after this version; ""/undefined: the current objects as ADDED, then changes. */
  readonly resourceVersion?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly allowBookmarks?: boolean;
  readonly timeoutSeconds?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent<T> {
  readonly type: WatchEventType;
  /** For BOOKMARK only kind, apiVersion and metadata.resourceVersion are set. */
  readonly object: T;
}

export interface WriteOptions {
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
}

export interface PatchOptions extends WriteOptions {
  /** Server-side apply: take fields other managers own. */
  readonly force?: boolean;
  /** Patch the status subresource. */
  readonly status?: boolean;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface DeleteOptions {
  readonly dryRun?: boolean;
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

/**
 * A watch: async-iterate its events in revision order. An ERROR event from the server ends the
 * iteration by throwing its ApiError (410 Expired: list again); a broken stream throws
 * ServiceUnavailable; a stream the server ends (timeout, shutdown) just ends — resume from the last
 * resourceVersion seen. Backpressure is HTTP/2's: a consumer that stops reading stops the stream.
 */
export interface Watch<T> extends AsyncIterable<WatchEvent<T>> {
  close(): void;
}

/**
 * The verbs on one resource, client-go's dynamic client made typed. `namespace(ns)` gives the view
 * on one namespace; without one, namespaced objects are addressed by their metadata.namespace and
 * list/watch span all namespaces.
 */
export class ResourceClient<T extends KubeObject> {
  constructor(
    private readonly transport: ApiTransport,
    readonly gvr: Gvr,
    private readonly ns: string | undefined,
  ) {}

  namespace(namespace: string): ResourceClient<T> {
    return new ResourceClient<T>(this.transport, this.gvr, namespace);
  }

  async get(name: string): Promise<T> {
    return decode<T>((await this.transport.unary<ApiObjectResponse>('Get', { ref: this.ref(name) })).object);
  }

  async list(options: ListOptions = {}): Promise<ObjectList<T>> {
    const response = await this.transport.unary<ApiListResponse>('List', {
      ref: this.ref(''),
      label_selector: options.labelSelector ?? '',
      field_selector: options.fieldSelector ?? '',
      limit: options.limit ?? 0,
      continue: options.continue ?? '',
    });
    const remaining = Number(response.remaining_item_count);
    return {
      items: response.items.map((item) => decode<T>(item)),
      resourceVersion: response.resource_version,
      ...(response.continue ? { continue: response.continue, remainingItemCount: remaining } : {}),
    };
  }

  watch(options: WatchOptions = {}): Watch<T> {
    const opened = this.transport.openStream('Watch', {
      ref: this.ref(''),
      label_selector: options.labelSelector ?? '',
      field_selector: options.fieldSelector ?? '',
      resource_version: options.resourceVersion ?? '',
      allow_bookmarks: options.allowBookmarks ?? false,
      timeout_seconds: options.timeoutSeconds ?? 0,
    });
    let closed = false;
    async function* events(): AsyncGenerator<WatchEvent<T>> {
      try {
        for await (const raw of opened.stream as AsyncIterable<ApiWatchEvent>) {
          const object = JSON.parse(raw.object.toString('utf8')) as unknown;
          if (raw.type === 'ERROR') throw new ApiError(object as Status);
          yield { type: raw.type as WatchEventType, object: object as T };
        }
      } catch (error) {
        if (error instanceof ApiError) throw error;
        if (closed) return;
        opened.failed(error);
        throw toApiError(error);
      } finally {
        closed = true;
        opened.stream.cancel();
      }
    }
    const iterator = events();
    return {
      close: () => {
        closed = true;
        opened.stream.cancel();
      },
      [Symbol.asyncIterator]: () => iterator,
    };
  }

  async create(object: T, options: WriteOptions = {}): Promise<T> {
    const request = { ref: this.ref('', object), object: encode(object), options: this.writeOptions(options) };
    return decode<T>((await this.transport.unary<ApiObjectResponse>('Create', request)).object);
  }

  /** Replaces the object; Conflict when its metadata.resourceVersion is stale. Status is kept. */
  async update(object: T, options: WriteOptions = {}): Promise<T> {
    return this.put('Update', object, options);
  }

  /** Replaces the status only; Conflict when its metadata.resourceVersion is stale. */
  async updateStatus(object: T, options: WriteOptions = {}): Promise<T> {
    return this.put('UpdateStatus', object, options);
  }

  /** namespaces/finalize: replaces spec.finalizers (which update keeps); Conflict when stale. */
  async finalize(object: T, options: WriteOptions = {}): Promise<T> {
    return this.put('Finalize', object, options);
  }

  async patch(name: string, patchType: PatchType, patch: unknown, options: PatchOptions = {}): Promise<T> {
    const response = await this.transport.unary<ApiObjectResponse>('Patch', {
      ref: this.ref(name),
      patch_type: patchType,
      patch: encode(patch),
      options: { ...this.writeOptions(options), force: options.force ?? false },
      status: options.status ?? false,
    });
    return decode<T>(response.object);
  }

  /** deleted: gone now; otherwise the object as it stays, marked for deletion. */
  async delete(name: string, options: DeleteOptions = {}): Promise<{ deleted: boolean; object: T }> {
    const response = await this.transport.unary<ApiDeleteResponse>('Delete', {
      ref: this.ref(name),
      dry_run: options.dryRun ?? false,
      has_grace_period: options.gracePeriodSeconds !== undefined,
      grace_period_seconds: options.gracePeriodSeconds ?? 0,
      propagation_policy: options.propagationPolicy ?? '',
      precondition_uid: options.preconditions?.uid ?? '',
      precondition_resource_version: options.preconditions?.resourceVersion ?? '',
    });
    return { deleted: response.deleted, object: decode<T>(response.object) };
  }

  /** Deletes every object of the collection (this namespace's, or all) the selectors pick. */
  async deleteCollection(selectors: { labelSelector?: string; fieldSelector?: string } = {}, options: DeleteOptions = {}): Promise<T[]> {
    const response = await this.transport.unary<ApiListResponse>('DeleteCollection', {
      delete: {
        ref: this.ref(''),
        dry_run: options.dryRun ?? false,
        has_grace_period: options.gracePeriodSeconds !== undefined,
        grace_period_seconds: options.gracePeriodSeconds ?? 0,
        propagation_policy: options.propagationPolicy ?? '',
        precondition_uid: '',
        precondition_resource_version: '',
      },
      label_selector: selectors.labelSelector ?? '',
      field_selector: selectors.fieldSelector ?? '',
    });
    return response.items.map((item) => decode<T>(item));
  }

  /**
   * pods/binding: puts the pod on `nodeName`, once (Conflict when it has a node). Pods only. The
   * answer is a Status, as kube-apiserver's, so there is no pod to return: the watch brings it.
   */
  async bind(name: string, nodeName: string): Promise<void> {
    const namespace = this.ns ?? '';
    await this.transport.unary<ApiObjectResponse>('Bind', { namespace, name, node_name: nodeName });
  }

  private async put(method: 'Update' | 'UpdateStatus' | 'Finalize', object: T, options: WriteOptions): Promise<T> {
    const request = { ref: this.ref(object.metadata?.name ?? '', object), object: encode(object), options: this.writeOptions(options) };
    return decode<T>((await this.transport.unary<ApiObjectResponse>(method, request)).object);
  }

  private ref(name: string, object?: KubeObject): ApiResourceRef {
    return { ...this.gvr, namespace: this.ns ?? object?.metadata?.namespace ?? '', name };
  }

  private writeOptions(options: WriteOptions): { dry_run: boolean; field_manager: string; force: boolean } {
    return { dry_run: options.dryRun ?? false, field_manager: options.fieldManager ?? this.transport.fieldManager ?? '', force: false };
  }
}

function encode(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function decode<T>(bytes: Buffer): T {
  return JSON.parse(bytes.toString('utf8')) as T;
}
