import { realClock } from '@k8ts/base';
import { ApiClient, ApiEventRecorder, RateLimitingQueue, SharedInformerFactory } from '@k8ts/client';
import { CONTROLLERS, DEFAULT_CONTROLLER_MANAGER_OPTIONS, type Controller, type ControllerContext } from '@k8ts/controllers';
import { expect } from 'vitest';
import { silentLogger } from '../client/harness.js';

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

/** A controller built in the test's process, whose keys the test syncs by hand. */
export type SyncableController = Controller & { sync(key: string): Promise<void> };

/**
 * Runs `body` against the registered controller `name` built in this process on a LaggingClient
 * whose `resource` watches lag (the gate is open until the test closes it), once its informers
 * have synced; afterwards releases the gate and stops the informers and the client. Nothing runs
 * its workers: the test calls `sync`.
 */
export async function withLaggingController(
  grpcAddress: string,
  name: string,
  resource: string,
  body: (controller: SyncableController, client: LaggingClient, informers: SharedInformerFactory) => Promise<void>,
): Promise<void> {
  const client = new LaggingClient([grpcAddress], resource);
  const informers = new SharedInformerFactory(client);
  const context: ControllerContext = {
    client,
    informers,
    clock: realClock,
    logger: silentLogger(),
    options: DEFAULT_CONTROLLER_MANAGER_OPTIONS,
    recorder: (component) => new ApiEventRecorder({ client, component }),
    newQueue: (queueName) => new RateLimitingQueue<string>({ name: queueName }),
  };
  const descriptor = CONTROLLERS.find((candidate) => candidate.name === name);
  if (descriptor === undefined) throw new Error(`${name} is not registered`);
  const controller = descriptor.create(context) as SyncableController;
  informers.start();
  try {
    expect(await informers.waitForCacheSync()).toBe(true);
    await body(controller, client, informers);
  } finally {
    client.gate.release();
    await informers.stop();
    client.close();
  }
}
