import { matchesLabels, parseLabelSelector, type LabelRequirement } from '@k8ts/apimachinery';
import type { KubeObject } from './resource_client.js';

/**
 * A local cache of objects by key ("namespace/name", or "name" for cluster-scoped objects), with
 * secondary indexes: client-go's cache.Indexer.
 *
 * Contract:
 * - Objects handed in and out are shared, not copied: callers must treat them as read-only (copy
 *   before changing one; the informer may hand the same object to every handler).
 * - Every index function maps an object to zero or more index values; `byIndex(name, value)`
 *   returns the objects whose function gave `value`, kept current on every add, update and delete.
 * - Not safe across awaits by itself: one writer (the informer) changes it, synchronously.
 */
export type IndexFunc<T> = (object: T) => readonly string[];

/** The index every informer's indexer has: objects by namespace. */
export const NAMESPACE_INDEX = 'namespace';

export function namespaceIndexFunc(object: KubeObject): string[] {
  return [object.metadata?.namespace ?? ''];
}

/** client-go's MetaNamespaceKeyFunc. */
export function objectKey(object: KubeObject): string {
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

/** The inverse of objectKey. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export class Indexer<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Readonly<Record<string, IndexFunc<T>>> = {}) {
    this.addIndexers({ [NAMESPACE_INDEX]: namespaceIndexFunc, ...indexers });
  }

  /** Adds index functions, indexing what is already stored. */
  addIndexers(indexers: Readonly<Record<string, IndexFunc<T>>>): void {
    for (const [name, indexFunc] of Object.entries(indexers)) {
      if (this.indexers.has(name)) throw new Error(`Indexer: index ${name} already exists`);
      this.indexers.set(name, indexFunc);
      this.indices.set(name, new Map());
      for (const [key, object] of this.items) this.indexOne(name, indexFunc, key, object);
    }
  }

  hasIndex(name: string): boolean {
    return this.indexers.has(name);
  }

  /** Adds or replaces; returns what was stored under the key before. */
  upsert(object: T): T | undefined {
    const key = objectKey(object);
    const previous = this.items.get(key);
    if (previous !== undefined) this.unindex(key, previous);
    this.items.set(key, object);
    for (const [name, indexFunc] of this.indexers) this.indexOne(name, indexFunc, key, object);
    return previous;
  }

  /** Removes by the object's key; returns what was stored. */
  delete(object: T): T | undefined {
    return this.deleteKey(objectKey(object));
  }

  deleteKey(key: string): T | undefined {
    const previous = this.items.get(key);
    if (previous === undefined) return undefined;
    this.unindex(key, previous);
    this.items.delete(key);
    return previous;
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  /** The objects whose index function `indexName` gave `value`. */
  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((key) => this.items.get(key) as T);
  }

  indexKeys(indexName: string, value: string): string[] {
    const index = this.indices.get(indexName);
    if (index === undefined) throw new Error(`Indexer: no index named ${indexName}`);
    return [...(index.get(value) ?? [])];
  }

  /** The values an index holds, e.g. every node name with pods on it. */
  indexValues(indexName: string): string[] {
    const index = this.indices.get(indexName);
    if (index === undefined) throw new Error(`Indexer: no index named ${indexName}`);
    return [...index.keys()];
  }

  private indexOne(name: string, indexFunc: IndexFunc<T>, key: string, object: T): void {
    const index = this.indices.get(name) as Map<string, Set<string>>;
    for (const value of new Set(indexFunc(object))) {
      let keys = index.get(value);
      if (keys === undefined) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, object: T): void {
    for (const [name, indexFunc] of this.indexers) {
      const index = this.indices.get(name) as Map<string, Set<string>>;
      for (const value of indexFunc(object)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}

/**
 * Read access to an informer's cache, client-go's listers: `list(selector)`, `get(namespace,
 * name)`, and `namespace(ns)` for one namespace. Same read-only rule as the Indexer.
 */
export class Lister<T extends KubeObject> {
  constructor(
    private readonly indexer: Indexer<T>,
    private readonly ns?: string,
  ) {}

  namespace(namespace: string): Lister<T> {
    return new Lister(this.indexer, namespace);
  }

  /** Objects matching a label selector ("app=web,tier!=db"; "" or undefined: all). */
  list(labelSelector?: string): T[] {
    const requirements: LabelRequirement[] = labelSelector ? parseLabelSelector(labelSelector) : [];
    const objects = this.ns === undefined ? this.indexer.list() : this.indexer.byIndex(NAMESPACE_INDEX, this.ns);
    return requirements.length === 0 ? objects : objects.filter((object) => matchesLabels(requirements, object.metadata?.labels));
  }

  /** In a namespace view the namespace argument is ignored: `lister.namespace('a').get('x')`. */
  get(name: string, namespace?: string): T | undefined {
    return this.indexer.get(this.ns ?? namespace, name);
  }

  byIndex(indexName: string, value: string): T[] {
    const objects = this.indexer.byIndex(indexName, value);
    return this.ns === undefined ? objects : objects.filter((object) => object.metadata?.namespace === this.ns);
  }
}
