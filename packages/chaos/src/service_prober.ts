/**
 * A user of the workload's NodePort Service from this machine: one HTTP GET every `intervalMs`,
 * taking the nodes' addresses in turn, each with a deadline; every answer (or its absence) recorded.
 */

export interface ProbeResult {
  /** When it was sent. */
  readonly atMs: number;
  /** When the answer, or the failure, came back. */
  readonly doneAtMs: number;
  readonly ok: boolean;
  readonly node: string;
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

  /** Never rejects: a failure is a result. */
  private async probe(node: string, address: string): Promise<void> {
    const atMs = this.options.now();
    try {
      const response = await fetch(`http://${address}:${this.options.nodePort}/`, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 1_000) });
      await response.body?.cancel();
      const doneAtMs = this.options.now();
      this.results.push(response.ok ? { atMs, doneAtMs, ok: true, node } : { atMs, doneAtMs, ok: false, node, error: `HTTP ${response.status}` });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      this.results.push({ atMs, doneAtMs: this.options.now(), ok: false, node, error: cause ?? (error as Error).name });
    }
  }
}
