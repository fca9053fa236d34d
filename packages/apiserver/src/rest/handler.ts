import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { KubeObject } from '../object_store.js';
import { decodeBody, type DeleteOptions, type ResourceService, type WriteOptions } from '../resource_service.js';
import { apiErrors, apiVersionOf, fieldErrors, goUnmarshalKind, strictDecodingMessage, createdStatus, deletedStatus, unknownFieldWarning, type FieldError, type ResourceType } from '@k8ts/apimachinery';
import { applyPatch, openApiDocument, openApiIndex, patchTypeOf, selectorFilter, toTable } from '../rules.js';
import type { ResourceWatchCache } from '../watch_cache.js';
import { apiGroup, coreVersions, groupList, resourceList, versionInfo } from './discovery.js';
import { decodeObjectBody, decodePatchBody, MAX_BODY_BYTES, mediaType, PATCH_MEDIA_TYPES, readBody, sendJson, sendStatus, statusOf, unsupportedMediaType, wantsTable } from './http_io.js';
import { int64Param, resourceVersionParam } from './query_options.js';
import { MalformedRequestTarget, parseRequestPath } from './request_info.js';
import type { LogRequest, NodeLogs } from '../pod_logs.js';
import type { ApiServerMetrics } from '../metrics.js';
import { serveWatch } from './watch_stream.js';
import { evictPod } from '../eviction.js';
import { refusePlainConnect } from './pod_connect.js';

export interface RestHandlerOptions {
  readonly service: ResourceService;
  readonly caches: ReadonlyMap<ResourceType, ResourceWatchCache>;
  readonly logger: Logger;
  /** host:port clients reach this server at (for /api's serverAddressByClientCIDRs). */
  readonly serverAddress: string;
  readonly bookmarkIntervalMs?: number;
  /** Whether the store answers: /readyz and /healthz. */
  readonly storeHealthy: () => Promise<boolean>;
  readonly metrics?: ApiServerMetrics;
  /** Where pod logs come from (the pod's node agent over NATS); absent without --nats-url. */
  readonly podLogs?: NodeLogs;
}

type Query = URLSearchParams;

/** kube-apiserver's REST surface for kubectl and client libraries, over Node's http. */
export class RestHandler {
  constructor(private readonly options: RestHandlerOptions) {}

  handle = (request: IncomingMessage, response: ServerResponse): void => {
    this.route(request, response).catch((error: unknown) => {
      if (error instanceof MalformedRequestTarget) return refuseMalformedTarget(response);
      const status = statusOf(error);
      if (status.code >= 500) this.options.logger.warn({ method: request.method, url: request.url, err: String(error) }, 'request failed');
      sendStatus(response, status);
    });
  };

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const query = url.searchParams;
    const target = parseRequestPath(url.pathname);
    const method = request.method ?? 'GET';
    if (target.kind === 'resource') {
      const listing = method === 'GET' && target.name === undefined;
      const verb = listing ? (isTrue(query.get('watch')) ? 'WATCH' : 'LIST') : method;
      this.options.metrics?.observe(response, verb, target.subresource ? `${target.type.resource}/${target.subresource}` : target.type.resource);
    }
    if (target.kind === 'group-discovery') return sendJson(response, 200, apiGroup(target.group));
    if (target.kind === 'version-discovery') return sendJson(response, 200, resourceList(target.group, target.version));
    if (target.kind === 'non-resource') return this.nonResource(target.path, response);
    const { type, namespace, name, subresource } = target;
    if (subresource === 'log') return this.logs(response, type, namespace as string, name as string, method, query);
    if (subresource === 'eviction') return this.evict(request, response, type, namespace as string, name as string, method, query);
    if (subresource === 'scale') return this.scale(request, response, type, namespace, name as string, method);
    if (subresource === 'binding') return this.bind(request, response, type, namespace, name as string, method);
    if (subresource === 'exec' || subresource === 'attach' || subresource === 'portforward') {
      if (method !== 'GET' && method !== 'POST') throw apiErrors.methodNotSupported(type, method.toLowerCase());
      return refusePlainConnect(this.options.service, type, namespace as string, name as string, subresource, query);
    }
    if (name === undefined) {
      if (method === 'GET' && isTrue(query.get('watch'))) return this.watch(request, response, type, namespace, query);
      if (method === 'GET') return this.list(request, response, type, namespace, query);
      if (method === 'POST') return this.create(request, response, type, namespace, query);
      if (method === 'DELETE') return this.deleteCollection(request, response, type, namespace, query);
      throw apiErrors.methodNotSupported(type, method.toLowerCase());
    }
    const statusOnly = subresource === 'status' || subresource === 'finalize' ? subresource : undefined;
    if (method === 'GET') {
      resourceVersionParam(query); // GetOptions: the same 400 as a list for a resourceVersion that is not one
      return this.sendObject(request, response, type, 200, await this.options.service.get(type, namespace, name), query);
    }
    if (method === 'PUT') {
      const body = await this.body(request, type, query, response);
      const updated = await this.options.service.update(type, namespace, name, body, statusOnly, { ...writeOptions(query), bodyDecoded: true });
      return this.sendObject(request, response, type, 200, updated, query);
    }
    if (method === 'PATCH') {
      const patchType = patchTypeOf(patchMediaType(request));
      const raw = await readBody(request);
      const body = decodePatchBody(raw, patchType);
      const patched = await this.options.service.patch(type, namespace, name, patchType, body, statusOnly, {
        ...writeOptions(query),
        force: isTrue(query.get('force')),
      });
      return this.sendObject(request, response, type, 200, patched, query);
    }
    if (method === 'DELETE') {
      const { options, codeIfKept } = await deleteRequest(request, query);
      const result = await this.options.service.delete(type, namespace, name, options);
      if (result.deleted) return sendJson(response, 200, deletedStatus(type, name, result.object.metadata?.uid));
      return this.sendObject(request, response, type, codeIfKept, result.object, query);
    }
    throw apiErrors.methodNotSupported(type, method.toLowerCase());
  }

  private async nonResource(path: string, response: ServerResponse): Promise<void> {
    if (path === '/api') return sendJson(response, 200, coreVersions(this.options.serverAddress));
    if (path === '/apis') return sendJson(response, 200, groupList());
    if (path === '/version' || path === '/version/') return sendJson(response, 200, versionInfo());
    if (path === '/openapi/v3' || path === '/openapi/v3/') return sendJson(response, 200, openApiIndex());
    if (path.startsWith('/openapi/v3/')) return sendJson(response, 200, openApiDocument(path.slice('/openapi/v3/'.length)));
    if (['/healthz', '/livez', '/readyz'].includes(path)) {
      const healthy = path === '/livez' || (await this.options.storeHealthy());
      response.writeHead(healthy ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(healthy ? 'ok' : '[-]etcd failed: reason withheld\nhealthz check failed');
      return;
    }
    if (path === '/metrics' && this.options.metrics) {
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      response.end(await this.options.metrics.text());
      return;
    }
    throw apiErrors.notFoundPath(path);
  }

  private async list(request: IncomingMessage, response: ServerResponse, type: ResourceType, namespace: string | undefined, query: Query): Promise<void> {
    const filter = selectorFilter(type, query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined);
    const { limit } = listOptions(query);
    const selecting = query.get('labelSelector') || query.get('fieldSelector');
    const result = await this.options.service.list(type, namespace, {
      ...(limit > 0 ? { limit } : {}),
      ...(query.get('continue') ? { continueToken: query.get('continue') as string } : {}),
      ...(selecting ? { filter } : {}),
    });
    const items = result.items;
    const listMeta = {
      resourceVersion: String(result.revision),
      ...(result.continueToken ? { continue: result.continueToken } : {}),
      ...(result.remainingItemCount !== undefined ? { remainingItemCount: result.remainingItemCount } : {}),
    };
    if (wantsTable(request)) {
      return sendJson(response, 200, toTable(type, items, { now: new Date(), includeObject: includeObject(query), listMeta }));
    }
    sendJson(response, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: listMeta, items });
  }

  private async watch(request: IncomingMessage, response: ServerResponse, type: ResourceType, namespace: string | undefined, query: Query): Promise<void> {
    const cache = this.options.caches.get(type);
    if (cache === undefined) throw apiErrors.methodNotSupported(type, 'watch');
    const filter = selectorFilter(type, query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined);
    const { resourceVersion, timeoutSeconds } = listOptions(query);
    const table = wantsTable(request);
    if (timeoutSeconds !== undefined && timeoutSeconds < 0) {
      // kube's watch timer fires at once on a negative timeout: 200 and an empty stream.
      response.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      response.end();
      return;
    }
    const timeout = timeoutSeconds ?? 0;
    await serveWatch(request, response, type, cache, {
      ...(namespace === undefined ? {} : { namespace }),
      ...(resourceVersion === undefined ? {} : { fromRevision: resourceVersion }),
      filter,
      ...(timeout > 0 ? { timeoutSeconds: timeout } : {}),
      bookmarks: isTrue(query.get('allowWatchBookmarks')),
      bookmarkIntervalMs: this.options.bookmarkIntervalMs ?? 60_000,
      render: table ? (object) => toTable(type, [object], { now: new Date(), includeObject: includeObject(query) }) : (object) => object,
    });
  }

  private async create(request: IncomingMessage, response: ServerResponse, type: ResourceType, namespace: string | undefined, query: Query): Promise<void> {
    const body = await this.body(request, type, query, response);
    const created = await this.options.service.create(type, namespace, body, { ...writeOptions(query), bodyDecoded: true });
    this.sendObject(request, response, type, 201, created, query);
  }

  private async deleteCollection(request: IncomingMessage, response: ServerResponse, type: ResourceType, namespace: string | undefined, query: Query): Promise<void> {
    listOptions(query);
    const filter = selectorFilter(type, query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined);
    const deleted = await this.options.service.deleteCollection(type, namespace, filter, (await deleteRequest(request, query)).options);
    sendJson(response, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: {}, items: deleted });
  }

  /** autoscaling/v1 Scale for deployments and replica sets. */
  private async scale(request: IncomingMessage, response: ServerResponse, type: ResourceType, namespace: string | undefined, name: string, method: string): Promise<void> {
    const toScale = (object: KubeObject): object => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name, namespace, uid: object.metadata?.uid, resourceVersion: object.metadata?.resourceVersion, creationTimestamp: object.metadata?.creationTimestamp },
      spec: { replicas: (object['spec'] as { replicas?: number } | undefined)?.replicas ?? 0 },
      status: {
        replicas: (object['status'] as { replicas?: number } | undefined)?.replicas ?? 0,
        selector: selectorText((object['spec'] as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels),
      },
    });
    if (method === 'GET') return sendJson(response, 200, toScale(await this.options.service.get(type, namespace, name)));
    let replicas: unknown;
    if (method === 'PUT') replicas = (decodeObjectBody(await readBody(request), mediaType(request)) as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
    else if (method === 'PATCH') {
      const current = toScale(await this.options.service.get(type, namespace, name));
      const patchType = patchTypeOf(patchMediaType(request));
      const patched = applyPatch(type, current as KubeObject, patchType, decodePatchBody(await readBody(request), patchType), {
        manager: 'unknown',
        force: false,
        now: new Date().toISOString(),
      });
      replicas = (patched['spec'] as { replicas?: unknown } | undefined)?.replicas;
    } else throw apiErrors.methodNotSupported(type, method.toLowerCase());
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw apiErrors.invalid({ group: 'autoscaling', kind: 'Scale' }, name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be greater than or equal to 0' }]);
    }
    const updated = await this.options.service.patch(type, namespace, name, 'merge', { spec: { replicas } }, undefined, writeOptions(new URLSearchParams()));
    sendJson(response, 200, toScale(updated));
  }

  /** pods/log: the container's log, streamed from the pod's node (kubectl logs, -f, --tail, --previous). */
  private async logs(response: ServerResponse, type: ResourceType, namespace: string, name: string, method: string, query: Query): Promise<void> {
    if (method !== 'GET') throw apiErrors.methodNotSupported(type, method.toLowerCase());
    const number = (key: string): number | undefined => int64Param(query, key);
    validateLogOptions(name, number('tailLines'), number('limitBytes'), number('sinceSeconds'), query.get('sinceTime') ?? undefined);
    const pod = await this.options.service.get(type, namespace, name);
    const spec = (pod['spec'] ?? {}) as { nodeName?: string; containers?: { name: string }[]; initContainers?: { name: string }[] };
    const names = (spec.containers ?? []).map((c) => c.name);
    const all = [...names, ...(spec.initContainers ?? []).map((c) => c.name)];
    let container = query.get('container') ?? '';
    if (container === '') {
      if (names.length !== 1) throw apiErrors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
      container = names[0] as string;
    } else if (!all.includes(container)) {
      throw apiErrors.badRequest(`container ${container} is not valid for pod ${name}`);
    }
    if (!spec.nodeName) throw apiErrors.badRequest(`pod ${name} does not have a host assigned`);
    if (this.options.podLogs === undefined) throw apiErrors.serviceUnavailable('pod logs come from the nodes over NATS: this apiserver runs without --nats-url');
    const logRequest: LogRequest = {
      namespace,
      pod: name,
      container,
      follow: isTrue(query.get('follow')),
      previous: isTrue(query.get('previous')),
      timestamps: isTrue(query.get('timestamps')),
      ...(number('tailLines') === undefined ? {} : { tailLines: number('tailLines') as number }),
      ...(number('sinceSeconds') === undefined ? {} : { sinceSeconds: number('sinceSeconds') as number }),
      ...(query.get('sinceTime') ? { sinceTime: query.get('sinceTime') as string } : {}),
      ...(number('limitBytes') === undefined ? {} : { limitBytes: number('limitBytes') as number }),
    };
    const gone = new AbortController();
    response.on('close', () => gone.abort());
    const start = (): void => {
      if (!response.headersSent) response.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
    };
    try {
      await this.options.podLogs.stream(spec.nodeName, logRequest, (chunk) => (start(), response.write(chunk)), gone.signal);
    } catch (error) {
      if (!response.headersSent) throw error;
    }
    start();
    response.end();
  }

  /** pods/eviction: a delete that respects PodDisruptionBudgets (see eviction.ts). */
  private async evict(request: IncomingMessage, response: ServerResponse, type: ResourceType, namespace: string, name: string, method: string, query: Query): Promise<void> {
    if (method !== 'POST') throw apiErrors.methodNotSupported(type, method.toLowerCase());
    const body = decodeObjectBody(await readBody(request), mediaType(request));
    const answer = await evictPod(this.options.service, namespace, name, body, query.getAll('dryRun').includes('All'));
    sendJson(response, answer.code, answer.status);
  }

  /** pods/binding: assign a pod to a node, once (the scheduler's write). */
  private async bind(request: IncomingMessage, response: ServerResponse, type: ResourceType, namespace: string | undefined, name: string, method: string): Promise<void> {
    if (method !== 'POST') throw apiErrors.methodNotSupported(type, method.toLowerCase());
    const binding = decodeObjectBody(await readBody(request), mediaType(request)) as { target?: { name?: string } } | undefined;
    const node = binding?.target?.name;
    if (!node) throw apiErrors.invalid({ group: '', kind: 'Binding' }, name, [{ type: 'FieldValueRequired', field: 'target.name', detail: '' }]);
    await this.options.service.bind(namespace as string, name, node);
    sendJson(response, 201, createdStatus());
  }

  /**
   * A create or update body, decoded as typed for the service (`bodyDecoded` in writeOptions) in the
   * walk that finds its unknown fields: Strict refuses them before any type error, Warn reports them
   * (in a Warning header also on the type error's answer).
   */
  private async body(request: IncomingMessage, type: ResourceType, query: Query, response: ServerResponse): Promise<unknown> {
    const body = decodeObjectBody(await readBody(request), mediaType(request));
    const { unknownFields: unknown, refusal } = decodeBody(type, body, writeOptions(query));
    const validation = query.get('fieldValidation') ?? 'Warn';
    if (validation !== 'Ignore') {
      if (unknown.length > 0 && validation === 'Strict') {
        throw apiErrors.badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${strictDecodingMessage(unknown)}`);
      }
      if (unknown.length > 0) response.setHeader('Warning', unknown.map((field) => headerText(`299 - ${JSON.stringify(unknownFieldWarning(field))}`)));
    }
    if (refusal !== undefined) throw refusal;
    return body;
  }

  private sendObject(request: IncomingMessage, response: ServerResponse, type: ResourceType, code: number, object: KubeObject, query: Query): void {
    if (wantsTable(request)) return sendJson(response, code, toTable(type, [object], { now: new Date(), includeObject: includeObject(query) }));
    sendJson(response, code, object);
  }
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

function includeObject(query: Query): 'None' | 'Metadata' | 'Object' {
  const value = query.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

/** A REST client's write: its unknown fields are dropped, as kube-apiserver's decoder drops them. */
function writeOptions(query: Query): WriteOptions {
  const manager = query.get('fieldManager');
  return { dryRun: query.getAll('dryRun').includes('All'), dropUnknownFields: true, ...(manager ? { fieldManager: manager } : {}) };
}

/**
 * ValidatePodLogOptions, checked before the pod is looked up (as the pods/log storage does): 422
 * Invalid on kind PodLogOptions.
 */
function validateLogOptions(name: string, tailLines: number | undefined, limitBytes: number | undefined, sinceSeconds: number | undefined, sinceTime: string | undefined): void {
  const errors: FieldError[] = [];
  if (tailLines !== undefined && tailLines < 0) errors.push(fieldErrors.invalid('tailLines', tailLines, 'must be greater than or equal to 0'));
  if (limitBytes !== undefined && limitBytes < 1) errors.push(fieldErrors.invalid('limitBytes', limitBytes, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceTime !== undefined) errors.push(fieldErrors.forbidden('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  else if (sinceSeconds !== undefined && sinceSeconds < 1) errors.push(fieldErrors.invalid('sinceSeconds', sinceSeconds, 'must be greater than 0'));
  if (errors.length > 0) throw apiErrors.invalid({ group: '', kind: 'PodLogOptions' }, name, errors);
}

/**
 * A delete's options, and the code it answers when the object stays (graceful deletion, finalizers):
 * 200, as kube-apiserver's delete handler, which answers 202 only when the deprecated
 * `orphanDependents: false` was asked for ("we want to do this always … but that will break
 * existing clients").
 */
async function deleteRequest(request: IncomingMessage, query: Query): Promise<{ options: DeleteOptions; codeIfKept: 200 | 202 }> {
  // A body is DeleteOptions in any media type a create accepts (415 otherwise); none means query only.
  const raw = await readBody(request);
  const body = ((raw.length > 0 ? decodeObjectBody(raw, mediaType(request)) : undefined) ?? {}) as {
    gracePeriodSeconds?: unknown;
    propagationPolicy?: DeleteOptions['propagationPolicy'];
    preconditions?: DeleteOptions['preconditions'];
    dryRun?: string[];
    orphanDependents?: unknown;
  };
  const orphanDependents = query.get('orphanDependents') ?? body.orphanDependents;
  const queryGrace = int64Param(query, 'gracePeriodSeconds');
  const bodyGrace = body.gracePeriodSeconds ?? undefined;
  if (bodyGrace !== undefined && !Number.isSafeInteger(bodyGrace)) {
    throw apiErrors.badRequest(`json: cannot unmarshal ${goUnmarshalKind(bodyGrace, true)} into Go struct field DeleteOptions.gracePeriodSeconds of type int64`);
  }
  // rest.BeforeDelete: "Negative values will be treated as the value `1s` on the delete path."
  const given = queryGrace ?? (bodyGrace as number | undefined);
  const grace = given !== undefined && given < 0 ? 1 : given;
  const policy = (query.get('propagationPolicy') ?? body.propagationPolicy) as DeleteOptions['propagationPolicy'] | undefined;
  const options: DeleteOptions = {
    dryRun: query.getAll('dryRun').includes('All') || (body.dryRun ?? []).includes('All'),
    ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
    ...(policy ? { propagationPolicy: policy } : {}),
    ...(body.preconditions ? { preconditions: body.preconditions } : {}),
  };
  return { options, codeIfKept: orphanDependents === false || orphanDependents === 'false' ? 202 : 200 };
}

function selectorText(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** The ListOptions kube decodes from every list, watch and deletecollection query (400 on a bad one). */
function listOptions(query: Query): { limit: number; timeoutSeconds: number | undefined; resourceVersion: number | undefined } {
  const limit = int64Param(query, 'limit') ?? 0;
  const timeoutSeconds = int64Param(query, 'timeoutSeconds');
  // A negative limit is no limit, as kube's storage reads it (only Limit > 0 pages).
  return { limit: Math.max(limit, 0), timeoutSeconds, resourceVersion: resourceVersionParam(query) };
}

/** A PATCH's media type, refused with kube's 415 unless it is one of the patch types. */
function patchMediaType(request: IncomingMessage): string {
  const type = mediaType(request);
  if (!(PATCH_MEDIA_TYPES as readonly string[]).includes(type) && type !== 'application/apply-patch+cbor') throw unsupportedMediaType(PATCH_MEDIA_TYPES);
  return type;
}

/** What a refused request may still upload before the connection is cut: a little over the body limit. */
const DISCARD_BEFORE_CLOSE_BYTES = 2 * MAX_BODY_BYTES;

/** Go's net/http answer to a request target it cannot parse: plain text, connection closed. */
function refuseMalformedTarget(response: ServerResponse): void {
  if (response.headersSent) return void response.end();
  const answer = (): void => {
    if (response.headersSent || response.destroyed || response.socket?.destroyed !== false) return;
    response.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
    response.end('400 Bad Request');
  };
  // Answer once the body is read out (up to a bound), so a client still uploading sees the answer
  // rather than a connection reset: Go's server, too, lets the client finish before it closes.
  const request = response.req;
  if (request.complete) return answer();
  let read = 0;
  request.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > DISCARD_BEFORE_CLOSE_BYTES) request.destroy();
  });
  request.once('end', answer);
  request.once('close', answer);
}

/**
 * A header value as Go's server writes a string: its UTF-8 bytes as they are (Node's headers take
 * Latin-1, one character a byte), control characters as spaces (never a header split).
 */
function headerText(text: string): string {
  return Buffer.from(text.replace(/[\u0000-\u001f\u007f]/g, ' '), 'utf8').toString('latin1');
}
