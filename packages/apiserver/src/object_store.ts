import { apiErrors, cloneJson, goUnmarshalKind, type ResourceType } from '@k8ts/apimachinery';
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

/** The version kube-apiserver writes into its continue tokens; a token of any other is refused. */
const CONTINUE_VERSION = 'meta.k8s.io/v1';

/**
 * A continue token, as kube-apiserver encodes it (base64url without padding of
 * `{"v":"meta.k8s.io/v1","rv":<revision>,"start":<key>}`): `rv` is the first page's revision, so
 * every page reads at it and the pages form one snapshot; `start` is the key to go on from
 * (inclusive), relative to the collection's prefix, so a token never names a key outside it.
 */
export function encodeContinue(nextKey: string, prefix: string, revision: number): string {
  if (!nextKey.startsWith(prefix)) throw new Error(`continue key ${nextKey} is outside the collection ${prefix}`);
  const token = { v: CONTINUE_VERSION, rv: revision, start: nextKey.slice(prefix.length) };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/** The key after `key` in key order: a page ends at `key`, the next starts here. */
export function keyAfter(key: string): string {
  return `${key}\u0000`;
}

/**
 * A continue token read back as kube's storage.DecodeContinue reads it: the key to list from
 * (always under `prefix`) and the revision to read at (0: the current one). Refused with kube's
 * 400 "invalid continue token: continue key is not valid…": a token with revision 0 or no start
 * key, of another version, or whose key path.Clean would change ("../secrets/x").
 */
export function decodeContinue(text: string, prefix: string): { key: string; revision: number } {
  const refuse = (detail: string): never => {
    throw apiErrors.badRequest(`invalid continue token: continue key is not valid${detail}`);
  };
  const decoded = decodeRawBase64Url(text);
  if (typeof decoded === 'number') return refuse(`: illegal base64 data at input byte ${decoded}`);
  let token: unknown;
  try {
    token = JSON.parse(decoded.toString('utf8'));
  } catch (error) {
    return refuse(`: ${goJsonSyntaxError(decoded.toString('utf8'), error)}`);
  }
  if (token !== null && (typeof token !== 'object' || Array.isArray(token))) {
    return refuse(`: json: cannot unmarshal ${goUnmarshalKind(token)} into Go value of type storage.continueToken`);
  }
  const fields = goFields((token ?? {}) as Record<string, unknown>, ['v', 'rv', 'start']);
  const field = (name: string, goType: 'string' | 'int64'): unknown => {
    const value = fields[name] ?? undefined; // Go: null leaves the field at its zero value
    if (value === undefined) return goType === 'string' ? '' : 0;
    const fits = goType === 'string' ? typeof value === 'string' : typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 2 ** 63;
    if (!fits) refuse(`: json: cannot unmarshal ${goUnmarshalKind(value, goType === 'int64')} into Go struct field continueToken.${name} of type ${goType}`);
    return value;
  };
  const version = field('v', 'string') as string;
  const revision = field('rv', 'int64') as number;
  const start = field('start', 'string') as string;
  if (version !== CONTINUE_VERSION) return refuse(`: server does not recognize this encoded version ${version}`);
  if (revision === 0) return refuse(`: incorrect encoded start resourceVersion (version ${CONTINUE_VERSION})`);
  if (start === '') return refuse(`: encoded start key empty (version ${CONTINUE_VERSION})`);
  const rooted = start.startsWith('/') ? start : `/${start}`;
  if (cleanRootedPath(rooted) !== rooted) return refuse(`: ${start}`);
  // A negative revision asks for the current one, as upstream reads it.
  return { key: prefix + rooted.slice(1), revision: revision > 0 ? revision : 0 };
}

/**
 * The members of a decoded object under the struct field names they set, as Go's encoding/json
 * matches them: the exact name, or else the name up to case (with Go's special folds of "ſ" to "s"
 * and the Kelvin sign to "k"); of several keys for one field the last wins. Other keys are ignored.
 */
function goFields(object: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const fold = (text: string): string => text.replaceAll('\u017f', 's').replaceAll('\u212a', 'k').toLowerCase();
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    const name = names.includes(key) ? key : names.find((candidate) => fold(key) === candidate);
    if (name !== undefined) fields[name] = value;
  }
  return fields;
}

/** Go's path.Clean of a path that begins with "/": no empty, "." or ".." segments, no trailing "/". */
function cleanRootedPath(path: string): string {
  const kept: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') kept.pop();
    else kept.push(segment);
  }
  return `/${kept.join('/')}`;
}

const BASE64URL_ALPHABET = /^[A-Za-z0-9_-]$/;

/**
 * Go's base64.RawURLEncoding.DecodeString: the bytes, or the offset of the first byte it refuses
 * (a character outside the alphabet, padding included, or a lone last character). Go skips CR and LF.
 */
function decodeRawBase64Url(text: string): Buffer | number {
  let count = 0;
  let lastIndex = -1;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (char === '\r' || char === '\n') continue;
    if (!BASE64URL_ALPHABET.test(char)) return Buffer.byteLength(text.slice(0, index));
    count++;
    lastIndex = index;
  }
  if (count % 4 === 1) return Buffer.byteLength(text.slice(0, lastIndex));
  return Buffer.from(text.replace(/[\r\n]/g, ''), 'base64url');
}

/**
 * Go's encoding/json text for the syntax errors a mangled token has: input that ends too soon, or a
 * first character no JSON value starts with. Other syntax errors (Go names the character and what
 * it expected there) get a plainer text.
 */
function goJsonSyntaxError(text: string, error: unknown): string {
  const first = text.trimStart()[0];
  if (first !== undefined && !/^["{[\-0-9tfn]$/.test(first)) {
    return `invalid character ${first === "'" ? "'\\''" : `'${first}'`} looking for beginning of value`;
  }
  if (first === undefined || (error instanceof Error && /end of JSON input/i.test(error.message))) return 'unexpected end of JSON input';
  return 'invalid JSON';
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
    const token = options.continueToken ? decodeContinue(options.continueToken, prefix) : undefined;
    const start = Buffer.from(token?.key ?? prefix);
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    let response;
    try {
      response = await this.etcd.range({
        key: start,
        range_end: prefixEnd(Buffer.from(prefix)),
        ...(limit ? { limit: String(limit) } : {}),
        ...(token?.revision ? { revision: String(token.revision) } : {}),
      });
    } catch (error) {
      if (error instanceof EtcdError && error.compacted) {
        throw apiErrors.expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
      }
      throw error;
    }
    const revision = token?.revision || Number(response.header?.revision ?? 0);
    const items = response.kvs.map(decodeObject);
    const last = response.kvs.at(-1);
    if (response.more && last !== undefined) {
      const remaining = Number(response.count) - response.kvs.length;
      return { items, revision, continueToken: encodeContinue(keyAfter(last.key.toString('utf8')), prefix, revision), remainingItemCount: remaining };
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
        next = await change(cloneJson(current));
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
