/**
 * `--runtime simulated --nodes N`: the simulated fleet (kwok-like) configured from the flags —
 * the nodes' shape from --node-capacity / --max-pods / --node-labels / --register-with-taints, the
 * heartbeats from the lease and status flags, the pods' stages from the --simulated-* flags.
 */
import type { ApiClient } from '@k8ts/client';
import { DEFAULT_WRITE_LIMITS, SimulatedFleet, defaultNodeShape, formatBytes, formatCpu, leaseRenewIntervalMs, nodeNames, type SimulatedFleetConfig } from '@k8ts/kubelet';
import type { Logger } from 'pino';
import type { NodeAgentFlags } from './flags.js';
import type { RunningNode } from './process_node.js';

export function fleetConfig(flags: NodeAgentFlags): SimulatedFleetConfig {
  const shape = defaultNodeShape(flags.nodes, flags.simulatedNodePrefix);
  const capacity = flags.nodeCapacity;
  return {
    nodes: {
      ...shape,
      ...(capacity.cpuMillis === undefined ? {} : { cpu: formatCpu(capacity.cpuMillis) }),
      ...(capacity.memoryBytes === undefined ? {} : { memory: formatBytes(capacity.memoryBytes) }),
      ...(capacity.ephemeralStorageBytes === undefined ? {} : { ephemeralStorage: formatBytes(capacity.ephemeralStorageBytes) }),
      pods: flags.maxPods,
      labels: flags.nodeLabels,
      taints: flags.registerWithTaints.map((taint) => ({ key: taint.key, effect: taint.effect, ...(taint.value === undefined ? {} : { value: taint.value }) })),
    },
    pods: {
      startDelayMs: flags.simulatedStartDelay,
      readyDelayMs: flags.simulatedReadyDelay,
      completeAfterMs: flags.simulatedCompleteAfter,
      deleteDelayMs: flags.simulatedDeleteDelay,
      jitterMs: flags.simulatedJitter,
      failureRate: flags.simulatedFailureRate,
      seed: flags.simulatedSeed,
    },
    heartbeats: {
      leaseDurationSeconds: flags.nodeLeaseDurationSeconds,
      leaseRenewIntervalMs: leaseRenewIntervalMs(flags.nodeLeaseDurationSeconds),
      nodeStatusUpdateIntervalMs: flags.nodeStatusUpdateFrequency,
      nodeStatusReportIntervalMs: flags.nodeStatusReportFrequency,
    },
    writes: DEFAULT_WRITE_LIMITS,
  };
}

export async function startSimulatedNodes(options: { flags: NodeAgentFlags; client: ApiClient; logger: Logger }): Promise<RunningNode> {
  const config = fleetConfig(options.flags);
  const fleet = new SimulatedFleet({ client: options.client, config, logger: options.logger, kubeletPort: options.flags.port });
  let started = false;
  await fleet.start();
  started = true;
  options.logger.info({ event: 'node-agent-started', runtime: 'simulated', nodes: config.nodes.count, prefix: config.nodes.namePrefix }, 'simulated nodes started');
  return {
    names: nodeNames(config.nodes),
    healthy: () => started,
    stop: () => fleet.stop(),
  };
}
