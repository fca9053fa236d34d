import { apiErrors, type ResourceType } from '@k8ts/apimachinery';
import * as grpc from '@grpc/grpc-js';
import type { KeyValue, TxnResponse } from '@k8ts/proto';
import { EtcdError, prefixEnd, type EtcdClient } from './etcd_client.js';

/** Any stored object: what every kind has in common. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

export interface ListResult {
  items: KubeObject[];
  /** The store revision the list was read at: the list's resourceVersion. */
  revision: number;
  /** Set when `limit` cut the list short: where the next page starts. */
  continueToken?: string;
  remainingItemCount?: number;
}

/**
 * Where an object lives in the store: Kubernetes' layout, `/registry/<resource>/<namespace>/<name>`
 * (`/registry/<resource>/<name>` for cluster-scoped resources). Served resource names are unique
 * across groups, so the group is not part of the key (as upstream).
 */
export function objectKey(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${collectionPrefix(type, namespace)}${name}`;
}

export function collectionPrefix(type: ResourceType, namespace?: string): string {
  return type.namespaced && namespace !== undefined ? `/registry/${type.resource}/${namespace}/` : `/registry/${type.resource}/`;
}

/** An object as read from a key-value: its resourceVersion is the key's mod revision. */
export function decodeObject(kv: KeyValue): KubeObject {
  const object = JSON.parse(kv.value.toString('utf8')) as KubeObject;
  object.metadata = { ...object.metadata, resourceVersion: String(kv.mod_revision) };
  return object;
}

function encodeObject(object: KubeObject): Buffer {
  // The resourceVersion is the store's to say: it is never stored inside the value.
  const { resourceVersion: _ignored, ...metadata } = object.metadata ?? {};
  return Buffer.from(JSON.stringify({ ...object, metadata }));
}

/** Tries of a write across a store leader change (an election takes about a second). */
const WRITE_ATTEMPTS = 6;

interface ContinueToken {
  /** Revision of the first page: every page reads at it, so the pages form one snapshot. */
  rv: number;
  /** The key to continue from (exclusive). */
  start: string;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'k8ts.io/v1', ...token })).toString('base64url');
}

function decodeContinue(text: string): ContinueToken {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<ContinueToken> & { v?: string };
    if (token.v === 'k8ts.io/v1' && typeof token.rv === 'number' && typeof token.start === 'string') return { rv: token.rv, start: token.start };
  } catch {
    // fall through
  }
  throw apiErrors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

/**
 * Objects in the etcd v3 store, with optimistic concurrency on the key's mod revision: creates
 * only where no key is, updates only from the revision the caller read. Each call is one etcd
 * request (or a read and a compare-and-swap), so nothing is ever half-written.
 */
export class ObjectStore {
  constructor(private readonly etcd: EtcdClient) {}

  async get(type: ResourceType, namespace: string | undefined, name: string): Promise<KubeObject> {
    const response = await this.etcd.range({ key: Buffer.from(objectKey(type, namespace, name)) });
    const kv = response.kvs[0];
    if (kv === undefined) throw apiErrors.notFound(type, name);
    return decodeObject(kv);
  }

  /** Objects of a collection, in key order, optionally a page at a time. */
  async list(type: ResourceType, namespace: string | undefined, options: { limit?: number; continueToken?: string } = {}): Promise<ListResult> {
    const prefix = collectionPrefix(type, namespace);
    const token = options.continueToken ? decodeContinue(options.continueToken) : undefined;
    const start = token ? Buffer.concat([Buffer.from(token.start), Buffer.from([0])]) : Buffer.from(prefix);
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    let response;
    try {
      response = await this.etcd.range({
        key: start,
        range_end: prefixEnd(Buffer.from(prefix)),
        ...(limit ? { limit: String(limit) } : {}),
        ...(token ? { revision: String(token.rv) } : {}),
      });
    } catch (error) {
      if (error instanceof EtcdError && error.compacted) {
        throw apiErrors.expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
      }
      throw error;
    }
    const revision = token?.rv ?? Number(response.header?.revision ?? 0);
    const items = response.kvs.map(decodeObject);
    const last = response.kvs.at(-1);
    if (response.more && last !== undefined) {
      const remaining = Number(response.count) - response.kvs.length;
      return { items, revision, continueToken: encodeContinue({ rv: revision, start: last.key.toString('utf8') }), remainingItemCount: remaining };
    }
    return { items, revision };
  }

  /** Stores a new object; AlreadyExists if one has its name. Returns it with its resourceVersion. */
  async create(type: ResourceType, object: KubeObject): Promise<KubeObject> {
    const name = object.metadata?.name ?? '';
    const key = Buffer.from(objectKey(type, object.metadata?.namespace, name));
    const value = encodeObject(object);
    const response = await this.conditionalWrite(key, value, () =>
      this.etcd.txn(
        [{ key, target: 'CREATE', result: 'EQUAL', target_union: 'create_revision', create_revision: '0' }],
        [{ request: 'request_put', request_put: { key, value } as never }],
      ),
    );
    if (!response.succeeded) throw apiErrors.alreadyExists(type, name);
    return withVersion(object, Number(response.header?.revision));
  }

  /**
   * Replaces the object if it is still at `expectedRevision`: Conflict if it changed since, NotFound
   * if it is gone.
   */
  async update(type: ResourceType, object: KubeObject, expectedRevision: number): Promise<KubeObject> {
    const name = object.metadata?.name ?? '';
    const key = Buffer.from(objectKey(type, object.metadata?.namespace, name));
    const value = encodeObject(object);
    const response = await this.conditionalWrite(key, value, () =>
      this.etcd.txn(
        [{ key, target: 'MOD', result: 'EQUAL', target_union: 'mod_revision', mod_revision: String(expectedRevision) }],
        [{ request: 'request_put', request_put: { key, value } as never }],
        [{ request: 'request_range', request_range: { key } as never }],
      ),
    );
    if (!response.succeeded) {
      const current = response.responses[0]?.response_range?.kvs[0];
      throw current === undefined ? apiErrors.notFound(type, name) : apiErrors.staleResourceVersion(type, name);
    }
    return withVersion(object, Number(response.header?.revision));
  }

  /**
   * A compare-and-put that survives a store failover. UNAVAILABLE ("leader changed", a member gone)
   * leaves it unknown whether the put happened, so it is tried again; if the retry's compare then
   * fails, the key is read: holding exactly the bytes we wrote (every object carries its uid, so no
   * other write yields them) means the earlier attempt took effect.
   */
  private async conditionalWrite(key: Buffer, value: Buffer, attempt: () => Promise<TxnResponse>): Promise<TxnResponse> {
    let uncertain = false;
    for (let tries = 1; ; tries++) {
      try {
        const response = await attempt();
        if (response.succeeded || !uncertain) return response;
        const current = (await this.etcd.range({ key })).kvs[0];
        if (current !== undefined && current.value.equals(value)) {
          return { ...response, succeeded: true, header: { ...(response.header as NonNullable<TxnResponse['header']>), revision: String(current.mod_revision) } };
        }
        return response;
      } catch (error) {
        if (!(error instanceof EtcdError) || error.code !== grpc.status.UNAVAILABLE || tries >= WRITE_ATTEMPTS) throw error;
        uncertain = true;
        await new Promise((done) => setTimeout(done, 250 * tries));
      }
    }
  }

  /** Removes the object if it is still at `expectedRevision`; returns what was deleted. */
  async delete(type: ResourceType, namespace: string | undefined, name: string, expectedRevision: number): Promise<{ object: KubeObject; revision: number }> {
    const key = Buffer.from(objectKey(type, namespace, name));
    const response = await this.etcd.txn(
      [{ key, target: 'MOD', result: 'EQUAL', target_union: 'mod_revision', mod_revision: String(expectedRevision) }],
      [{ request: 'request_delete_range', request_delete_range: { key, prev_kv: true } as never }],
      [{ request: 'request_range', request_range: { key } as never }],
    );
    if (!response.succeeded) {
      const current = response.responses[0]?.response_range?.kvs[0];
      throw current === undefined ? apiErrors.notFound(type, name) : apiErrors.staleResourceVersion(type, name);
    }
    const previous = response.responses[0]?.response_delete_range?.prev_kvs[0];
    if (previous === undefined) throw apiErrors.notFound(type, name);
    return { object: decodeObject(previous), revision: Number(response.header?.revision) };
  }

  /**
   * Read, change, compare-and-swap, and again on a conflict: for writes computed from the current
   * object (patches, status, bindings, graceful deletion). `change` may throw an ApiError to refuse;
   * it returns undefined to delete the object instead (a finalized deletion). `suggestion` (the
   * watch cache's copy) saves the first read, as kube-apiserver does: if it was stale, the
   * compare-and-swap fails or `change` objects, and the loop goes on from a fresh read.
   */
  async guaranteedUpdate(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    change: (current: KubeObject) => KubeObject | undefined | Promise<KubeObject | undefined>,
    suggestion?: KubeObject,
  ): Promise<{ object: KubeObject; deleted: boolean }> {
    let guess = suggestion;
    for (let attempt = 0; ; attempt++) {
      const fromCache = guess !== undefined;
      const current = guess ?? (await this.get(type, namespace, name));
      guess = undefined;
      const revision = Number(current.metadata?.resourceVersion);
      let next: KubeObject | undefined;
      try {
        next = await change(structuredClone(current));
      } catch (error) {
        if (fromCache) continue;
        throw error;
      }
      try {
        if (next === undefined) {
          const { object } = await this.delete(type, namespace, name, revision);
          return { object, deleted: true };
        }
        return { object: await this.update(type, next, revision), deleted: false };
      } catch (error) {
        const conflict = error instanceof Error && 'reason' in error && (error as { reason: string }).reason === 'Conflict';
        if (!conflict || attempt >= 16) throw error;
      }
    }
  }
}

function withVersion(object: KubeObject, revision: number): KubeObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: String(revision) } };
}
