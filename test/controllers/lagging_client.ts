import { ApiClient } from '@k8ts/client';

/** Holds watch events back while closed: a cache that lags behind the API. */
export class Gate {
  private open = true;
  private waiters: (() => void)[] = [];
  close(): void {
    this.open = false;
  }
  release(): void {
    this.open = true;
    for (const wake of this.waiters.splice(0)) wake();
  }
  async pass(): Promise<void> {
    if (!this.open) await new Promise<void>((wake) => this.waiters.push(wake));
  }
}

/**
 * An ApiClient whose watches of one resource deliver nothing while `gate` is closed; lists and
 * writes go through. A controller built on it has an informer cache that lags behind the API.
 */
export class LaggingClient extends ApiClient {
  readonly gate = new Gate();
  constructor(
    addresses: readonly string[],
    private readonly lagging: string,
  ) {
    super({ addresses });
  }
  override openStream(method: string, request: object): ReturnType<ApiClient['openStream']> {
    const opened = super.openStream(method, request);
    if ((request as { ref?: { resource?: string } }).ref?.resource !== this.lagging) return opened;
    const gate = this.gate;
    const stream = opened.stream;
    const held = {
      cancel: () => stream.cancel(),
      async *[Symbol.asyncIterator]() {
        for await (const item of stream) {
          await gate.pass();
          yield item;
        }
      },
    };
    return { stream: held as unknown as typeof stream, failed: (error) => opened.failed(error) };
  }
}
