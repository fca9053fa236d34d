import { HealthCheckedPool, TcpProxy } from '@k8ts/l4proxy';
import { onShutdown, parseFlagsOrExit, runMain, serveHealth } from '@k8ts/service';
import { pino } from 'pino';
import { apiLbCommand, apiLbFlags } from './flags.js';
import { ApiLbMetrics } from './metrics.js';

async function main(): Promise<void> {
  const flags = apiLbFlags(parseFlagsOrExit<Record<string, unknown>>(apiLbCommand(), process.argv.slice(2)));
  const logger = pino({ level: flags.logLevel, base: { component: 'api-lb' } });
  let metrics: ApiLbMetrics | undefined;
  const pool = new HealthCheckedPool({
    backends: flags.backends,
    healthPath: flags.healthPath,
    intervalMs: flags.healthIntervalMs,
    ...(flags.healthTimeoutMs === undefined ? {} : { timeoutMs: flags.healthTimeoutMs }),
    failureThreshold: flags.healthFailureThreshold,
    successThreshold: flags.healthSuccessThreshold,
    onCheck: (status, result) => metrics?.checked(status, result),
    logger,
  });
  metrics = new ApiLbMetrics(pool.statuses());
  const proxy = new TcpProxy({
    host: flags.bindAddress,
    port: flags.port,
    pickBackend: pool.pick,
    maxConnections: flags.maxConnections,
    connectTimeoutMs: flags.connectTimeoutMs,
    idleTimeoutMs: flags.idleTimeoutMs,
    logger,
  });
  metrics.watchProxy(() => proxy.counters());
  pool.start();
  let listening = false;
  const health = await serveHealth({
    bindAddress: flags.bindAddress,
    port: flags.healthzPort,
    // Alive while it accepts clients, whatever the backends' state: a restart would not bring them back.
    healthy: () => listening,
    unhealthyText: 'not listening',
    metrics: metrics.registry,
    logger,
  });
  onShutdown(logger, async () => {
    listening = false;
    await pool.stop();
    await proxy.close();
    health?.close();
  });
  const { port } = await proxy.listen();
  listening = true;
  logger.info({ event: 'listening', port, backends: flags.backends.length }, 'api load balancer ready');
}

runMain('k8ts-api-lb', main);
