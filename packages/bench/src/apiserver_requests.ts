import { ApiRequestError, resourceVersionOf, type ApiClient, type ConfigMapLike } from './apiserver_http.js';
import { runOpenLoop, scheduledCount } from './apiserver_open_loop.js';
import type { ApiServerBenchOptions, ApiTestName } from './apiserver_options.js';
import type { ApiTestResult } from './apiserver_results.js';
import { describeError, ErrorCounts } from './closed_loop.js';

/**
 * The single-object tests, each an open loop at `--rate` for `--duration`: create (POST a new
 * ~1 KiB ConfigMap), get (GET one that create made, round robin), update (PUT one that create made,
 * round robin, with the resourceVersion of its last write, as `kubectl replace` does). A request
 * answered with anything but the expected code is a failure, counted by status and message.
 */

export interface RequestTestContext {
  readonly client: ApiClient;
  readonly options: ApiServerBenchOptions;
  readonly namespace: string;
  /** The data value every ConfigMap carries. */
  readonly value: string;
  readonly objects: CreatedObjects;
}

/** The ConfigMaps create made, with the resourceVersion of the latest write to each. */
export class CreatedObjects {
  private readonly versions = new Map<string, string>();
  private readonly names: string[] = [];

  record(name: string, resourceVersion: string): void {
    if (!this.versions.has(name)) this.names.push(name);
    this.versions.set(name, resourceVersion);
  }

  get count(): number {
    return this.names.length;
  }

  /** The n-th object, round robin over those created. */
  pick(n: number): { name: string; resourceVersion: string } {
    const name = this.names[n % this.names.length];
    const resourceVersion = name === undefined ? undefined : this.versions.get(name);
    if (name === undefined || resourceVersion === undefined) throw new Error('no object to read or update: create made none');
    return { name, resourceVersion };
  }
}

export function configMapsPath(namespace: string, name?: string): string {
  return `/api/v1/namespaces/${namespace}/configmaps${name === undefined ? '' : `/${name}`}`;
}

export function configMapBody(namespace: string, name: string, value: string, extra: { resourceVersion?: string; revision?: number } = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { app: 'k8ts-bench' }, ...(extra.resourceVersion === undefined ? {} : { resourceVersion: extra.resourceVersion }) },
    data: { value, ...(extra.revision === undefined ? {} : { revision: String(extra.revision) }) },
  };
}

/** Bytes of one create's JSON body with this value (printed with the conditions). */
export function requestBodyBytes(namespace: string, value: string): number {
  return Buffer.byteLength(JSON.stringify(configMapBody(namespace, 'bench-000000', value)));
}

export function objectName(prefix: string, index: number): string {
  return `${prefix}-${String(index).padStart(6, '0')}`;
}

async function create(context: RequestTestContext, name: string): Promise<void> {
  const { client, namespace, value, objects } = context;
  const created = await client.json<ConfigMapLike>('POST', configMapsPath(namespace), configMapBody(namespace, name, value), [201]);
  objects.record(name, resourceVersionOf(created));
}

async function get(context: RequestTestContext, n: number): Promise<void> {
  const { name } = context.objects.pick(n);
  const read = await context.client.json<ConfigMapLike>('GET', configMapsPath(context.namespace, name), undefined, [200]);
  if (read.metadata?.name !== name) throw new Error(`GET answered with another object (${String(read.metadata?.name)})`);
}

async function update(context: RequestTestContext, n: number): Promise<void> {
  const { client, namespace, value, objects } = context;
  const { name, resourceVersion } = objects.pick(n);
  const body = configMapBody(namespace, name, value, { resourceVersion, revision: n });
  const updated = await client.json<ConfigMapLike>('PUT', configMapsPath(namespace, name), body, [200]);
  objects.record(name, resourceVersionOf(updated));
}

const DESCRIPTIONS: Record<Exclude<ApiTestName, 'watch' | 'watch-knee'>, string> = {
  create: 'POST a new ConfigMap',
  get: 'GET a ConfigMap create made (round robin)',
  update: 'PUT a ConfigMap create made (round robin) with its last resourceVersion',
};

/** Runs create, get or update as an open loop and reports it. */
export async function runRequestTest(context: RequestTestContext, name: Exclude<ApiTestName, 'watch' | 'watch-knee'>): Promise<ApiTestResult> {
  const { options } = context;
  const operation =
    name === 'create'
      ? (index: number) => create(context, objectName('bench', index))
      : name === 'get'
        ? (index: number) => get(context, index)
        : (index: number) => update(context, index);
  const loop = await runOpenLoop({
    ratePerSecond: options.ratePerSecond,
    count: scheduledCount(options.ratePerSecond, options.durationSeconds * 1000),
    maxInFlight: options.maxInFlight,
    maxErrors: options.maxErrors,
    operation,
    describeError,
  });
  return {
    name,
    description: `${DESCRIPTIONS[name]}, ${options.ratePerSecond}/s for ${options.durationSeconds} s over ≤${options.connections} keep-alive connections`,
    unit: 'requests',
    ratePerSecond: options.ratePerSecond,
    scheduled: loop.scheduled,
    sent: loop.sent,
    completed: loop.completed,
    failed: loop.failed,
    errors: loop.errors,
    elapsedMs: loop.elapsedMs,
    perSecond: loop.completedPerSecond,
    latency: loop.latency,
    serviceLatency: loop.serviceLatency,
    maxSendLagMs: loop.maxSendLagMs,
    inFlightWaits: loop.inFlightWaits,
    stoppedBy: loop.stoppedBy,
  };
}

/**
 * Unmeasured creates, then gets, then updates of what they made (a third each, ten at a time, so
 * several connections open): every process on the path runs each kind of request often enough for
 * V8 to compile it before the measured tests. Failures are counted.
 */
export async function runWarmup(context: RequestTestContext, requests: number): Promise<{ requests: number; failed: number; errors: Record<string, number> }> {
  const errors = new ErrorCounts();
  const warmObjects = new CreatedObjects();
  const warmContext = { ...context, objects: warmObjects };
  const creates = Math.ceil(requests / 3);
  const gets = Math.ceil((requests - creates) / 2);
  const operation = (index: number): Promise<void> =>
    index < creates ? create(warmContext, objectName('warmup', index)) : index < creates + gets ? get(warmContext, index) : update(warmContext, index);
  // Phase by phase, so a get or update only ever asks for an object already created.
  const phases = [
    [0, creates],
    [creates, creates + gets],
    [creates + gets, requests],
  ] as const;
  const batch = 10;
  for (const [from, to] of phases) {
    for (let start = from; start < to; start += batch) {
      const indices = Array.from({ length: Math.min(batch, to - start) }, (_, i) => start + i);
      await Promise.all(
        indices.map((index) =>
          operation(index).catch((error: unknown) => {
            errors.add(error instanceof ApiRequestError ? error.message : describeError(error));
          }),
        ),
      );
    }
  }
  return { requests, failed: errors.total, errors: errors.toRecord() };
}
