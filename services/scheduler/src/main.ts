import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ApiClient, LeaderElector, SharedInformerFactory } from '@k8ts/client';
import { Scheduler, parseSchedulerConfiguration, type SchedulerConfiguration } from '@k8ts/scheduler';
import { Command, Option } from 'commander';
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import { pino, type Logger } from 'pino';
import { ApiWriter } from './api_writer.js';
import { SchedulerMetrics } from './metrics.js';

interface Flags {
  master: string;
  bindAddress: string;
  port: number;
  config?: string;
  leaderElect: boolean;
  leaderElectLeaseDuration: number;
  leaderElectRenewDeadline: number;
  leaderElectRetryPeriod: number;
  leaderElectResourceNamespace: string;
  leaderElectResourceName: string;
  logLevel: string;
}

/** Go-style durations as kube's flags take them ("15s", "500ms", "1m"), in ms. */
function duration(name: string) {
  return (value: string): number => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value.trim());
    if (!match) throw new Error(`${name} takes a duration like 15s or 500ms, got ${value}`);
    const unit = match[2] === 'ms' ? 1 : match[2] === 's' ? 1000 : 60_000;
    return Number(match[1]) * unit;
  };
}

function parseFlags(argv: string[]): Flags {
  const port = (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be a port number (0 turns it off), got ${value}`);
    return n;
  };
  const program = new Command('k8ts-scheduler')
    .description('The k8ts scheduler: binds pending pods to nodes through filter and score plugins. Flags follow kube-scheduler.')
    .addOption(new Option('--master <addresses>', "API servers' gRPC addresses (host:port), comma-separated").env('K8TS_APISERVERS').makeOptionMandatory())
    .addOption(new Option('--bind-address <ip>', 'address of /healthz and /metrics').default('0.0.0.0').env('K8TS_BIND_ADDRESS'))
    .addOption(new Option('--port <port>', 'plain HTTP port of /healthz and /metrics (0 turns it off)').default(10251).argParser(port).env('K8TS_PORT'))
    .addOption(new Option('--config <file>', 'a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) YAML file: profiles, percentageOfNodesToScore'))
    .addOption(new Option('--leader-elect [bool]', 'elect a leader among replicas before scheduling').default(true).argParser((value) => value !== 'false'))
    .addOption(new Option('--leader-elect-lease-duration <duration>', 'how long a lease lasts unrenewed').default(15_000, '15s').argParser(duration('--leader-elect-lease-duration')))
    .addOption(new Option('--leader-elect-renew-deadline <duration>', 'how long the leader tries to renew before giving up').default(10_000, '10s').argParser(duration('--leader-elect-renew-deadline')))
    .addOption(new Option('--leader-elect-retry-period <duration>', 'wait between tries to acquire or renew').default(2_000, '2s').argParser(duration('--leader-elect-retry-period')))
    .addOption(new Option('--leader-elect-resource-namespace <ns>', 'namespace of the leader Lease').default('kube-system'))
    .addOption(new Option('--leader-elect-resource-name <name>', 'name of the leader Lease').default('kube-scheduler'))
    .addOption(new Option('--log-level <level>', 'pino log level').default('info').env('K8TS_LOG_LEVEL'))
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  program.parse(argv, { from: 'user' });
  return program.opts<Flags>();
}

async function loadConfiguration(file: string | undefined): Promise<SchedulerConfiguration> {
  return parseSchedulerConfiguration(file === undefined ? undefined : await readFile(file, 'utf8'));
}

function serveHealth(flags: Flags, metrics: SchedulerMetrics, healthy: () => boolean): Promise<Server | undefined> {
  if (flags.port === 0) return Promise.resolve(undefined);
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      const ok = healthy();
      response.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not synced');
    } else if (path === '/metrics') {
      void metrics.render().then((text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(text));
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(flags.port, flags.bindAddress, () => resolve(server));
  });
}

async function main(): Promise<void> {
  let flags: Flags;
  let configuration: SchedulerConfiguration;
  try {
    flags = parseFlags(process.argv.slice(2));
    configuration = await loadConfiguration(flags.config);
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    if (code === 0) process.exit(0);
    process.stderr.write(`k8ts-scheduler: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const identity = `${hostname()}_${randomBytes(4).toString('hex')}`;
  const logger: Logger = pino({ level: flags.logLevel, base: { component: 'scheduler', identity } });
  const addresses = flags.master.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const client = new ApiClient({ addresses, logger, fieldManager: 'k8ts-scheduler' });
  const metrics = new SchedulerMetrics();
  const writer = new ApiWriter({ client, logger, component: 'default-scheduler', instance: identity });
  const scheduler = new Scheduler({ configuration, writer, logger, observer: metrics });
  metrics.watchQueue(() => scheduler.pendingPods());

  const informers = new SharedInformerFactory(client, { logger });
  informers.informerFor<Pod>('', 'v1', 'pods').addEventHandler({
    onAdd: (pod) => scheduler.addPod(pod),
    onUpdate: (oldPod, newPod) => scheduler.updatePod(oldPod, newPod),
    onDelete: (pod) => scheduler.deletePod(pod),
  });
  informers.informerFor<Node>('', 'v1', 'nodes').addEventHandler({
    onAdd: (node) => scheduler.addNode(node),
    onUpdate: (oldNode, newNode) => scheduler.updateNode(oldNode, newNode),
    onDelete: (node) => scheduler.deleteNode(node),
  });
  informers.informerFor<Namespace>('', 'v1', 'namespaces').addEventHandler({
    onAdd: (namespace) => scheduler.setNamespace(namespace),
    onUpdate: (_old, namespace) => scheduler.setNamespace(namespace),
    onDelete: (namespace) => scheduler.deleteNamespace(namespace),
  });
  informers.start();
  let synced = false;
  const health = await serveHealth(flags, metrics, () => synced);
  synced = await informers.waitForCacheSync();
  logger.info({ event: 'synced', nodes: scheduler.nodeCount() }, 'caches synced');

  const stopping = new AbortController();
  let elector: LeaderElector | undefined;
  const shutdown = async (signal: string, code = 0): Promise<void> => {
    logger.info({ event: 'shutdown', signal }, 'shutting down');
    stopping.abort();
    await elector?.stop();
    scheduler.close();
    await informers.stop();
    health?.close();
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  if (!flags.leaderElect) {
    await scheduler.run(stopping.signal);
    return;
  }
  elector = new LeaderElector({
    client,
    namespace: flags.leaderElectResourceNamespace,
    name: flags.leaderElectResourceName,
    identity,
    leaseDurationMs: flags.leaderElectLeaseDuration,
    renewDeadlineMs: flags.leaderElectRenewDeadline,
    retryPeriodMs: flags.leaderElectRetryPeriod,
    logger,
    callbacks: {
      onStartedLeading: (signal) => {
        logger.info({ event: 'leading' }, 'started leading');
        void scheduler.run(signal);
      },
      // As kube-scheduler: a replica that lost the lease exits and starts over clean.
      onStoppedLeading: () => {
        if (stopping.signal.aborted) return;
        logger.error({ event: 'leadership-lost' }, 'leader election lost');
        void shutdown('leadership-lost', 1);
      },
      onNewLeader: (leader) => logger.info({ event: 'new-leader', leader }, 'leader observed'),
    },
  });
  await elector.run();
}

main().catch((error: unknown) => {
  process.stderr.write(`k8ts-scheduler: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
