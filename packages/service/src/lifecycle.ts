import type { Logger } from 'pino';

/**
 * Runs a process's `main`: an error that escapes it is printed as `<name>: <stack>` and ends the
 * process with 1, so no rejection goes unhandled.
 */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
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
