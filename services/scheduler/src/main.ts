import { readFile } from 'node:fs/promises';
import { ApiClient, SharedInformerFactory } from '@k8ts/client';
import { Scheduler, parseSchedulerConfiguration, type SchedulerConfiguration } from '@k8ts/scheduler';
import {
  addComponentFlags,
  addLeaderElectionFlags,
  exitWithUsageError,
  isLeading,
  leaderIdentity,
  onShutdown,
  parseFlagsOrExit,
  runLeaderElected,
  runMain,
  serveHealth,
  splitList,
  type ComponentFlags,
  type LeaderElectionFlags,
} from '@k8ts/service';
import { Command, Option } from 'commander';
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import { pino } from 'pino';
import { ApiWriter } from './api_writer.js';
import { SchedulerMetrics } from './metrics.js';

interface Flags extends ComponentFlags, LeaderElectionFlags {
  config?: string;
}

function command(): Command {
  const program = new Command('k8ts-scheduler').description(
    'The k8ts scheduler: binds pending pods to nodes through filter and score plugins. Flags follow kube-scheduler.',
  );
  addComponentFlags(program, 10251).addOption(
    new Option('--config <file>', 'a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) YAML file: profiles, percentageOfNodesToScore'),
  );
  return addLeaderElectionFlags(program, 'kube-scheduler');
}

async function loadConfiguration(file: string | undefined): Promise<SchedulerConfiguration> {
  return parseSchedulerConfiguration(file === undefined ? undefined : await readFile(file, 'utf8'));
}

async function main(): Promise<void> {
  const flags = parseFlagsOrExit<Flags>(command(), process.argv.slice(2));
  let configuration: SchedulerConfiguration;
  try {
    configuration = await loadConfiguration(flags.config);
  } catch (error) {
    exitWithUsageError('k8ts-scheduler', error);
  }
  const identity = leaderIdentity();
  const logger = pino({ level: flags.logLevel, base: { component: 'scheduler', identity } });
  const client = new ApiClient({ addresses: splitList(flags.master), logger, fieldManager: 'k8ts-scheduler' });
  const metrics = new SchedulerMetrics();
  const writer = new ApiWriter({ client, logger, component: 'default-scheduler', instance: identity });
  const scheduler = new Scheduler({ configuration, writer, logger, observer: metrics });
  metrics.watchQueue(() => scheduler.pendingPods());

  // As kube-scheduler, a standby keeps its caches warm: informers start before the election.
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

  const stopping = new AbortController();
  let elector: ReturnType<typeof runLeaderElected>;
  let synced = false;
  metrics.watchLeader(() => isLeading(flags, elector));
  const health = await serveHealth({
    bindAddress: flags.bindAddress,
    port: flags.port,
    healthy: () => synced,
    unhealthyText: 'not synced',
    metrics: metrics.registry,
    logger,
  });
  const shutdown = onShutdown(logger, async () => {
    stopping.abort();
    await elector?.stop();
    scheduler.close();
    await informers.stop();
    health?.close();
  });
  synced = await informers.waitForCacheSync();
  logger.info({ event: 'synced', nodes: scheduler.nodeCount() }, 'caches synced');
  if (stopping.signal.aborted) return;
  // A replica that lost the lease exits and starts over clean, as kube-scheduler does.
  elector = runLeaderElected(
    { client, flags, identity, logger, run: (signal) => scheduler.run(signal), onLost: () => shutdown('leadership-lost', 1) },
    stopping.signal,
  );
}

runMain('k8ts-scheduler', main);
