import { findKind, type ResourceType } from '@k8ts/apimachinery';
import { ignoreNotFound, type ApiClient, type DeleteOptions, type KubeObject, type ResourceClient } from '@k8ts/client';
import type { ObjectIdentity } from './identity.js';

/** An apiVersion/kind no served resource has: the reference cannot be checked (yet). */
export class RestMappingError extends Error {
  constructor(apiVersion: string, kind: string) {
    super(`unable to map ${apiVersion}, Kind=${kind} to a served resource`);
  }
}

/**
 * The collector's view of the API server: objects addressed by identity (apiVersion, kind,
 * namespace, name), whatever their resource, as upstream's metadata client over a REST mapper.
 */
export interface ObjectApi {
  /** Whether the kind is namespaced; undefined when no served resource has it. */
  scopeOf(apiVersion: string, kind: string): boolean | undefined;
  /** The live object, or undefined when it does not exist. Throws RestMappingError for an unknown kind. */
  get(identity: ObjectIdentity): Promise<KubeObject | undefined>;
  /** Throws the API's error (NotFound, Conflict on a failed precondition). */
  delete(identity: ObjectIdentity, options: DeleteOptions): Promise<void>;
  /** A JSON merge patch of the object; throws the API's error. */
  patch(identity: ObjectIdentity, mergePatch: unknown): Promise<void>;
}

/**
 * ObjectApi over the components' gRPC API. Kinds resolve through @k8ts/apimachinery's resource
 * registry — the list this API server serves: the gRPC API has no discovery call, and the registry
 * is what the server's own discovery documents are made from.
 */
export class ClientObjectApi implements ObjectApi {
  private readonly clients = new Map<ResourceType, ResourceClient<KubeObject>>();

  constructor(private readonly client: ApiClient) {}

  scopeOf(apiVersion: string, kind: string): boolean | undefined {
    return findKind(apiVersion, kind)?.namespaced;
  }

  async get(identity: ObjectIdentity): Promise<KubeObject | undefined> {
    const target = this.target(identity);
    if (target === undefined) return undefined;
    return ignoreNotFound(target.resource.get(identity.name));
  }

  async delete(identity: ObjectIdentity, options: DeleteOptions): Promise<void> {
    const target = this.target(identity);
    if (target !== undefined) await target.resource.delete(identity.name, options);
  }

  async patch(identity: ObjectIdentity, mergePatch: unknown): Promise<void> {
    const target = this.target(identity);
    if (target !== undefined) await target.resource.patch(identity.name, 'merge', mergePatch);
  }

  /** The resource client addressing the identity; undefined when no such object can exist (a namespaced kind without a namespace). */
  private target(identity: ObjectIdentity): { resource: ResourceClient<KubeObject> } | undefined {
    const type = findKind(identity.apiVersion, identity.kind);
    if (type === undefined) throw new RestMappingError(identity.apiVersion, identity.kind);
    let resource = this.clients.get(type);
    if (resource === undefined) {
      resource = this.client.resource<KubeObject>(type.group, type.version, type.resource);
      this.clients.set(type, resource);
    }
    if (!type.namespaced) return { resource };
    if (identity.namespace === '') return undefined;
    return { resource: resource.namespace(identity.namespace) };
  }
}
