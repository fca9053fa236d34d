import type { Logger } from 'pino';

/**
 * Runs a process's `main`: an error that escapes it is printed as `<name>: <stack>` (or only its
 * message with `stack: false`, as etcd prints its fatal errors) and ends the process with 1, so no
 * rejection goes unhandled.
 */
export function runMain(name: string, main: () => Promise<void>, options: { stack?: boolean } = {}): void {
  main().catch((error: unknown) => {
    const text = error instanceof Error ? (options.stack === false ? error.message : (error.stack ?? error.message)) : String(error);
    process.stderr.write(`${name}: ${text}\n`);
    process.exit(1);
  });
}

/**
 * Calls `stop` once on SIGTERM or SIGINT (or when the caller calls the returned function with a
 * reason and exit code), then exits with the code: 0 for a signal. A failing `stop` is logged and
 * the process still exits.
 */
export function onShutdown(logger: Logger, stop: (reason: string) => Promise<void>): (reason: string, code?: number) => void {
  let stopping = false;
  const shutdown = (reason: string, code = 0): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'shutdown', reason }, 'shutting down');
    stop(reason)
      .catch((error: unknown) => logger.error({ err: error }, 'shutdown failed'))
      .finally(() => process.exit(code));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return shutdown;
}
