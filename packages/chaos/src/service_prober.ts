import { getJsonOnce } from '@k8ts/testkit';

/**
 * A user of the workload's NodePort Service from this machine: one HTTP GET every `intervalMs`,
 * taking the nodes' addresses in turn, each with a deadline; every answer (or its absence) recorded,
 * with the pod that answered (http-echo answers with its pod's name).
 */

export interface ProbeResult {
  /** When it was sent. */
  readonly atMs: number;
  /** When the answer, or the failure, came back. */
  readonly doneAtMs: number;
  readonly ok: boolean;
  /** The node dialled (node port), or the node the request came from (cluster IP). */
  readonly node: string;
  /** How the Service was reached: a node port from outside (the default), or its cluster IP from a pod. */
  readonly via?: 'node-port' | 'cluster-ip';
  /** The pod that answered (http-echo's `pod`). */
  readonly answeredBy?: string;
  readonly error?: string;
}

export interface ServiceProberOptions {
  /** Node name → its address. */
  readonly nodes: ReadonlyMap<string, string>;
  readonly nodePort: number;
  readonly now: () => number;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
}

export class ServiceProber {
  readonly results: ProbeResult[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private turn = 0;

  constructor(private readonly options: ServiceProberOptions) {}

  start(): void {
    const nodes = [...this.options.nodes];
    if (nodes.length === 0) throw new Error('no node to probe the Service on');
    // Requests do not wait for each other: one hanging on a cut node must not hold the others back.
    this.timer = setInterval(() => {
      const [node, address] = nodes[this.turn++ % nodes.length] as [string, string];
      const probe = this.probe(node, address).finally(() => this.inFlight.delete(probe));
      this.inFlight.add(probe);
    }, this.options.intervalMs ?? 100);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
  }

  /** Never rejects: a failure is a result. Each request on a connection of its own, so each is balanced afresh. */
  private async probe(node: string, address: string): Promise<void> {
    const atMs = this.options.now();
    try {
      const answer = await getJsonOnce<{ pod?: unknown }>(`http://${address}:${this.options.nodePort}/`, this.options.timeoutMs ?? 1_000);
      this.results.push({ atMs, doneAtMs: this.options.now(), ok: true, node, ...(typeof answer.pod === 'string' ? { answeredBy: answer.pod } : {}) });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const message = (error as Error).message;
      this.results.push({ atMs, doneAtMs: this.options.now(), ok: false, node, error: code ?? (/no answer within/.test(message) ? 'timeout' : message) });
    }
  }
}
