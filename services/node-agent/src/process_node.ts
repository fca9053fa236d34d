/**
 * A process-runtime node: the host's facts, the pod network (namespaced with the privileges, host
 * otherwise; logged), the process runtime (instrumented for /metrics), the Node's registration,
 * status and Lease, the kubelet, and — with NATS — the logs and stream servers.
 */
import { ApiEventRecorder, type ApiClient } from '@k8ts/client';
import {
  HostNode,
  Kubelet,
  LogsServer,
  NodeLeaseRenewer,
  NodeStatusReporter,
  NodeStreamServer,
  ProcessRuntime,
  readHostFacts,
  canUseNamespaces,
  selectPodNetwork,
  type Runtime,
} from '@k8ts/kubelet';
import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import { startClusterNetwork } from './cluster_network.js';
import type { NodeAgentFlags } from './flags.js';
import type { NodeAgentMetrics } from './metrics.js';

export interface RunningNode {
  /** Whether /healthz says ok: the Node is registered and the kubelet runs. */
  healthy(): boolean;
  readonly names: readonly string[];
  stop(): Promise<void>;
}

export async function startProcessNode(options: {
  flags: NodeAgentFlags;
  client: ApiClient;
  eventClient: ApiClient;
  nats: NatsConnection | undefined;
  metrics: NodeAgentMetrics;
  logger: Logger;
}): Promise<RunningNode> {
  const { flags, client, eventClient, nats, metrics, logger } = options;
  const name = flags.hostnameOverride;
  const host = readHostFacts(flags.rootDir);
  const recorder = new ApiEventRecorder({ client: eventClient, component: 'kubelet', instance: name, host: name, logger, qps: flags.eventQps, burst: flags.eventBurst });
  const reporter = new NodeStatusReporter({
    client,
    logger,
    recorder,
    updateFrequencyMs: flags.nodeStatusUpdateFrequency,
    reportFrequencyMs: flags.nodeStatusReportFrequency,
  });
  reporter.onWritten(() => metrics.statusUpdates.inc());
  const nodeIP = flags.nodeIp ?? host.ipv4 ?? '127.0.0.1';
  const network = await selectPodNetwork({
    mode: flags.podNetwork,
    rootDir: flags.rootDir,
    podCIDR: () => reporter.node(name)?.spec?.podCIDR,
    nodeIP,
    ...(flags.podBridge === undefined ? {} : { bridgeName: flags.podBridge }),
    logger,
  });
  const runtime: Runtime = metrics.instrumentRuntime(
    new ProcessRuntime({
      rootDir: flags.rootDir,
      network,
      ...(flags.imageCatalog === undefined ? {} : { catalog: flags.imageCatalog }),
      logMaxSizeBytes: flags.containerLogMaxSize,
      logMaxFiles: flags.containerLogMaxFiles,
      logger,
    }),
  );
  let kubelet: Kubelet | undefined;
  const hostNode = new HostNode({
    name,
    host,
    nodeIP,
    labels: flags.nodeLabels,
    taints: flags.registerWithTaints,
    maxPods: flags.maxPods,
    capacity: flags.nodeCapacity,
    kubeReserved: flags.kubeReserved,
    systemReserved: flags.systemReserved,
    evictionHard: flags.evictionHard,
    kubeletPort: flags.port,
    runtime,
    notReadyReasons: () => (kubelet === undefined ? ['kubelet is starting'] : []),
  });
  const leases = new NodeLeaseRenewer({ client, durationSeconds: flags.nodeLeaseDurationSeconds, logger });
  leases.onRenewed(() => metrics.leaseRenewals.inc());
  let logs: LogsServer | undefined;
  let streams: NodeStreamServer | undefined;

  const registered: Node = await reporter.register(hostNode);
  leases.add(name, registered.metadata?.uid);
  recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name } }, 'Normal', 'Starting', 'Starting kubelet.');
  kubelet = new Kubelet({
    nodeName: name,
    client,
    runtime,
    rootDir: flags.rootDir,
    logger,
    recorder,
    node: () => reporter.node(name),
    podsShareNodeNetwork: network.mode === 'host',
    metrics: metrics.sink,
    dns: { clusterDNS: flags.clusterDns, clusterDomain: flags.clusterDomain, hostResolvConf: readResolvConf(flags.resolvConf, logger) },
  });
  await kubelet.start();
  const started = kubelet;
  await reporter.syncNow(name); // Ready now that the kubelet runs
  if (nats !== undefined) {
    logs = new LogsServer({
      nats,
      nodeName: name,
      locate: (namespace, pod, container) => started.locate(namespace, pod, container),
      // The pod's status picks the current or previous instance's file and ends a follow when the container has exited.
      podStatus: (namespace, pod) => started.runningPods().find((candidate) => candidate.metadata?.namespace === namespace && candidate.metadata?.name === pod)?.status,
      logger,
    });
    logs.start();
    streams = new NodeStreamServer({ nats, nodeName: name, runtime, locate: (namespace, pod, container) => started.locate(namespace, pod, container), logger });
    streams.start();
  }
  const clusterNetwork = await startClusterNetwork({
    flags,
    client,
    nodeName: name,
    namespacedPods: network.mode === 'namespaced',
    privileged: (await canUseNamespaces()).ok,
    logger,
  });
  if (clusterNetwork.proxy !== undefined) metrics.watchProxy(clusterNetwork.proxy);
  logger.info({ event: 'node-agent-started', node: name, nodeIP, podNetwork: network.mode, runtime: runtime.version() }, 'node agent started');

  return {
    names: [name],
    healthy: () => reporter.node(name) !== undefined,
    async stop(): Promise<void> {
      // As a kubelet restart: containers keep running; the next start adopts them.
      await logs?.stop();
      await streams?.stop();
      await clusterNetwork.stop();
      leases.stop();
      await reporter.stop();
      await started.stop();
      await runtime.close();
      await recorder.flush();
    },
  };
}

/** The text of --resolv-conf, the base of pods' resolv.conf; '' (upstream's "none") when unset or unreadable. */
function readResolvConf(path: string, logger: Logger): string {
  if (path === '') return '';
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    logger.warn({ err: error, path }, '--resolv-conf cannot be read: pods get no nameserver from the node');
    return '';
  }
}
