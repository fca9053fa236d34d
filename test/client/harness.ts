import { ApiServer, listenGrpcApi, type GrpcApiListener } from '@k8ts/apiserver';
import type { Watch, WatchEvent } from '@k8ts/client';

type Logger = ConstructorParameters<typeof ApiServer>[0]['logger'];

/** pino's interface, silent: the test output stays readable. */
export function silentLogger(): Logger {
  const logger: Record<string, unknown> = { level: 'silent' };
  for (const method of ['fatal', 'error', 'warn', 'info', 'debug', 'trace']) logger[method] = () => undefined;
  logger['child'] = () => logger;
  return logger as unknown as Logger;
}

/** One in-process API server replica with its gRPC API on a loopback port. */
export class GrpcApiServer {
  private readonly listeners: GrpcApiListener[] = [];

  private constructor(readonly api: ApiServer) {}

  static async start(etcdServers: readonly string[], options: { port?: number; bookmarkIntervalMs?: number } = {}): Promise<{ replica: GrpcApiServer; address: string }> {
    const api = new ApiServer({ etcdServers, serverAddress: '127.0.0.1:0', logger: silentLogger() });
    await api.start();
    const replica = new GrpcApiServer(api);
    const address = await replica.serve(options);
    return { replica, address };
  }

  /** Serves the API on one more port (an extra door that can be shut on its own). */
  async serve(options: { port?: number; bookmarkIntervalMs?: number } = {}): Promise<string> {
    const listener = await listenGrpcApi(this.api, options);
    this.listeners.push(listener);
    return listener.address;
  }

  /** Shuts every gRPC door at once (clients see their calls and streams fail), keeping the replica. */
  shutDoors(): void {
    for (const listener of this.listeners.splice(0)) listener.forceShutdown();
  }

  stop(): void {
    this.shutDoors();
    this.api.stop();
  }
}

/** Every event a watch delivers within `windowMs` (so a test also sees that nothing more came). */
export async function collect<T>(watch: Watch<T>, windowMs: number, until?: (events: WatchEvent<T>[]) => boolean): Promise<WatchEvent<T>[]> {
  const events: WatchEvent<T>[] = [];
  const timer = setTimeout(() => watch.close(), windowMs);
  try {
    for await (const event of watch) {
      events.push(event);
      if (until?.(events)) break;
    }
  } finally {
    clearTimeout(timer);
    watch.close();
  }
  return events;
}

export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
