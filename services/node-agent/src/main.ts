import { mkdirSync } from 'node:fs';
import { ApiClient } from '@k8ts/client';
import { exitWithUsageError, onShutdown, parseFlagsOrExit, runMain, serveHealth, splitList } from '@k8ts/service';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { command, type NodeAgentFlags } from './flags.js';
import { NodeAgentMetrics } from './metrics.js';
import { startProcessNode, type RunningNode } from './process_node.js';
import { startSimulatedNodes } from './simulated_nodes.js';

async function main(): Promise<void> {
  const flags = parseFlagsOrExit<NodeAgentFlags>(command(), process.argv.slice(2));
  try {
    mkdirSync(flags.rootDir, { recursive: true });
  } catch (error) {
    exitWithUsageError('k8ts-node-agent', new Error(`--root-dir: ${(error as Error).message}`));
  }
  const simulated = flags.runtime === 'simulated';
  const logger = pino({ level: flags.logLevel, base: { component: 'node-agent', ...(simulated ? { fleet: flags.simulatedNodePrefix } : { node: flags.hostnameOverride }) } });
  const client = new ApiClient({ addresses: splitList(flags.master), logger, fieldManager: 'kubelet', qps: flags.kubeApiQps, burst: flags.kubeApiBurst });
  // Events have a client and a budget of their own (--event-qps/--event-burst), as the kubelet's
  // event client: a burst of events never holds back status writes and deletes.
  const eventClient = new ApiClient({ addresses: splitList(flags.master), logger, fieldManager: 'kubelet' });
  const metrics = new NodeAgentMetrics();
  let running: RunningNode | undefined;
  const healthy = (): boolean => running?.healthy() ?? false;
  // /healthz on --healthz-port (as the kubelet's 10248) and /healthz + /metrics on --port (10250, plain HTTP here).
  const servers = await Promise.all([
    serveHealth({ bindAddress: flags.healthzBindAddress, port: flags.healthzPort, healthy, unhealthyText: 'node not registered', logger }),
    serveHealth({ bindAddress: flags.address, port: flags.port, healthy, unhealthyText: 'node not registered', metrics: metrics.registry, logger }),
  ]);
  let nats: NatsConnection | undefined;
  onShutdown(logger, async () => {
    await running?.stop();
    await nats?.drain().catch(() => undefined);
    client.close();
    eventClient.close();
    for (const server of servers) server?.close();
  });

  if (flags.natsUrl !== undefined) {
    // Reconnects forever: logs and streams resume once NATS is back.
    nats = await connect({ servers: flags.natsUrl, name: `k8ts-node-agent ${flags.hostnameOverride}`, maxReconnectAttempts: -1, waitOnFirstConnect: true });
    logger.info({ natsUrl: flags.natsUrl }, 'connected to NATS');
  }
  running = simulated ? await startSimulatedNodes({ flags, client, logger }) : await startProcessNode({ flags, client, eventClient, nats, metrics, logger });
  metrics.nodeNames(running.names);
}

runMain('k8ts-node-agent', main);
