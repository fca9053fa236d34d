import { isAlreadyExists, type ApiClient, type KubeObject } from '@k8ts/client';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { ProbeResult } from './service_prober.js';

/**
 * Users of the workload's Service inside the cluster: one prober pod per node (pinned to it by
 * nodeName, as a DaemonSet's would be), each requesting the Service's ClusterIP every
 * PROBE_INTERVAL_MS on a fresh connection and recording the time sent, the time answered and the
 * pod that answered (http-echo says its name), also printed one JSON line per request to its log.
 *
 * The run reads the records back from each prober itself: it serves them (`GET /results?boot&after`)
 * behind a NodePort Service with externalTrafficPolicy Local, so a node's address reaches that
 * node's prober only, and every target that gives node addresses (local, compose) gives this too.
 * Reads are incremental and retried; records are kept in the pod until read, so a node cut off for
 * a while loses none of them (a prober killed with its node loses what was not read yet: at most one
 * read interval). Times are the pods' Date.now(): the same host clock as the run's.
 */

export const PROBER_LABELS = { app: 'chaos-prober' } as const;
const PROBER_PORT = 8081;
const PROBE_INTERVAL_MS = 250;
const READ_INTERVAL_MS = 2_000;
const READ_TIMEOUT_MS = 1_500;
const FINAL_READ_TIMEOUT_MS = 15_000;

/** The prober's program, run by the `node` image (`node -e`): probes, keeps and serves its records (on $PORT, default PROBER_PORT). */
export const PROBER_SCRIPT = `
const http = require('node:http');
const [host, port] = process.env.TARGET.split(':');
const boot = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
const results = [];
let seq = 0;
function record(result) {
  results.push(result);
  if (results.length > 100000) results.shift();
  console.log(JSON.stringify(result));
}
setInterval(() => {
  const sent = { seq: ++seq, at: Date.now() };
  let finished = false;
  const finish = (fields) => {
    if (finished) return;
    finished = true;
    record({ ...sent, done: Date.now(), ...fields });
  };
  const request = http.get({ host, port: Number(port), path: '/', agent: false, timeout: 1000 }, (response) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk) => { body += chunk; });
    response.on('error', (error) => finish({ ok: false, error: error.code || error.message }));
    response.on('end', () => {
      let pod;
      try { pod = JSON.parse(body).pod; } catch {}
      finish(response.statusCode === 200 ? { ok: true, pod } : { ok: false, error: 'HTTP ' + response.statusCode });
    });
  });
  request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'TimeoutError' })));
  request.on('error', (error) => finish({ ok: false, error: error.code || error.message }));
}, ${PROBE_INTERVAL_MS});
http.createServer((request, response) => {
  const url = new URL(request.url, 'http://prober');
  const after = url.searchParams.get('boot') === boot ? Number(url.searchParams.get('after') || 0) : 0;
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ boot, node: process.env.NODE_NAME, results: results.filter((result) => result.seq > after) }));
}).listen(Number(process.env.PORT || ${PROBER_PORT}));
process.on('SIGTERM', () => process.exit(0));
`;

interface ProberRecord {
  readonly seq: number;
  readonly at: number;
  readonly done: number;
  readonly ok: boolean;
  readonly pod?: string;
  readonly error?: string;
}

export interface ClusterIpProberOptions {
  readonly client: ApiClient;
  readonly namespace: string;
  /** Node name → its address (where the readers' node port is reached). */
  readonly nodes: ReadonlyMap<string, string>;
  /** Date.now() when the run's clock read 0 (asked each time: the clock starts after the probers do). */
  readonly epochAtStartMs: () => number;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** Where the records are read on each node; default: the readers' Service's node port, known once created. */
  readonly readerPort?: number;
}

export class ClusterIpProber {
  /** `node/boot/seq` → the prober's record (epoch times) and its node. */
  private readonly records = new Map<string, { readonly node: string; readonly record: ProberRecord }>();
  private readonly cursors = new Map<string, { boot: string; after: number }>();
  private nodePort: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly options: ClusterIpProberOptions) {
    this.nodePort = options.readerPort;
  }

  /** Creates the probers (requesting `clusterIp:port`) and their readers' Service. */
  async create(clusterIp: string, port: number): Promise<void> {
    const { client, namespace } = this.options;
    const pods = client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace(namespace);
    for (const node of this.options.nodes.keys()) {
      const pod: Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `prober-${node}`, namespace, labels: { ...PROBER_LABELS } },
        spec: {
          nodeName: node,
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'prober',
              image: 'node',
              args: ['-e', PROBER_SCRIPT],
              ports: [{ containerPort: PROBER_PORT, name: 'results' }],
              env: [
                { name: 'TARGET', value: `${clusterIp}:${port}` },
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              ],
            },
          ],
        },
      };
      await pods.create(pod as Pod & KubeObject).catch(ignoreAlreadyExists);
    }
    const services = client.resource<Service & KubeObject>('', 'v1', 'services').namespace(namespace);
    const service: Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'chaos-prober', namespace },
      spec: { type: 'NodePort', externalTrafficPolicy: 'Local', selector: { ...PROBER_LABELS }, ports: [{ name: 'results', port: PROBER_PORT, targetPort: PROBER_PORT as never }] },
    };
    await services.create(service as Service & KubeObject).catch(ignoreAlreadyExists);
    this.nodePort = (await services.get('chaos-prober')).spec?.ports?.[0]?.nodePort;
    if (this.nodePort === undefined) throw new Error(`Service ${namespace}/chaos-prober has no node port`);
  }

  /** Waits until every prober answers its reader (they probe from then on). */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answered = await Promise.all([...this.options.nodes].map(([node, address]) => this.read(node, address)));
      if (answered.every(Boolean)) return;
      if (Date.now() > deadline) {
        const missing = [...this.options.nodes.keys()].filter((_, index) => !answered[index]);
        throw new Error(`the ClusterIP probers on ${missing.join(', ')} did not answer within ${timeoutMs / 1000} s`);
      }
      await new Promise((done) => setTimeout(done, 1_000));
    }
  }

  /** Reads the records every READ_INTERVAL_MS. */
  start(): void {
    this.timer = setInterval(() => {
      this.reading = this.reading.then(() => this.readAll());
    }, READ_INTERVAL_MS);
  }

  /** Stops reading, then reads until every prober gave its records up to now (bounded); never rejects. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.reading;
    const stopEpochMs = this.options.epochAtStartMs() + this.options.now();
    const deadline = Date.now() + FINAL_READ_TIMEOUT_MS;
    const pending = new Map(this.options.nodes);
    while (pending.size > 0 && Date.now() < deadline) {
      for (const [node, address] of pending) {
        if ((await this.read(node, address)) && this.lastAt(node) >= stopEpochMs) pending.delete(node);
      }
      if (pending.size > 0) await new Promise((done) => setTimeout(done, 500));
    }
    if (pending.size > 0) this.options.log(`chaos: the ClusterIP probers on ${[...pending.keys()].join(', ')} were not read to the end`);
  }

  /** Every request the probers made since the run's clock started, on its clock, sent-time order. */
  results(): ProbeResult[] {
    const epoch = this.options.epochAtStartMs();
    return [...this.records.values()]
      .filter(({ record }) => record.at >= epoch)
      .map(({ node, record }): ProbeResult => ({
        atMs: record.at - epoch,
        doneAtMs: record.done - epoch,
        ok: record.ok,
        node,
        via: 'cluster-ip',
        ...(record.pod === undefined ? {} : { answeredBy: record.pod }),
        ...(record.error === undefined ? {} : { error: record.error }),
      }))
      .sort((a, b) => a.atMs - b.atMs);
  }

  private async readAll(): Promise<void> {
    await Promise.all([...this.options.nodes].map(([node, address]) => this.read(node, address)));
  }

  private lastAt(node: string): number {
    const cursor = this.cursors.get(node);
    const last = cursor === undefined ? undefined : this.records.get(`${node}/${cursor.boot}/${cursor.after}`);
    return last === undefined ? -Infinity : last.record.at;
  }

  /** One read of a node's prober; true when it answered. Never rejects. */
  private async read(node: string, address: string): Promise<boolean> {
    const cursor = this.cursors.get(node);
    const query = cursor === undefined ? '' : `?boot=${cursor.boot}&after=${cursor.after}`;
    try {
      const response = await fetch(`http://${address}:${this.nodePort}/results${query}`, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
      if (!response.ok) {
        await response.body?.cancel();
        return false;
      }
      const answer = (await response.json()) as { boot: string; node?: string; results: ProberRecord[] };
      let after = answer.boot === cursor?.boot ? cursor.after : 0;
      for (const record of answer.results) {
        this.records.set(`${node}/${answer.boot}/${record.seq}`, { node: answer.node ?? node, record });
        after = Math.max(after, record.seq);
      }
      this.cursors.set(node, { boot: answer.boot, after });
      return true;
    } catch {
      return false;
    }
  }
}

/** A create retried after failover may meet its own first attempt. */
function ignoreAlreadyExists(error: unknown): void {
  if (!isAlreadyExists(error)) throw error;
}
