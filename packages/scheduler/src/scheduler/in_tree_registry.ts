/**
 * The plugins k8ts-scheduler ships, by upstream name. The binder writes through the given
 * ClusterWriter, and preemption clears the nominations it takes over through it. `random` (uniform in
 * [0, 1)) picks where preemption's dry run starts, so that a seeded scheduler is reproducible.
 */
import type { ClusterWriter } from './cluster_writer.js';
import type { Registry } from '../runtime/registry.js';
import { defaultBinderFactory, NAME as DEFAULT_BINDER } from '../plugins/default_binder/index.js';
import { DEFAULT_PREEMPTION_NAME, newDefaultPreemption } from '../plugins/default_preemption/index.js';
import * as interPodAffinity from '../plugins/inter_pod_affinity/index.js';
import * as nodeAffinity from '../plugins/node_affinity/index.js';
import * as nodeName from '../plugins/node_name/index.js';
import * as nodePorts from '../plugins/node_ports/index.js';
import * as nodeResourcesFit from '../plugins/node_resources/index.js';
import * as balancedAllocation from '../plugins/node_resources_balanced_allocation/index.js';
import * as nodeUnschedulable from '../plugins/node_unschedulable/index.js';
import * as podTopologySpread from '../plugins/pod_topology_spread/index.js';
import * as taintToleration from '../plugins/taint_toleration/index.js';

export function inTreeRegistry(writer: ClusterWriter, random: () => number = Math.random): Registry {
  return new Map([
    [nodeUnschedulable.NAME, nodeUnschedulable.factory],
    [nodeName.NAME, nodeName.factory],
    [taintToleration.NAME, taintToleration.factory],
    [nodeAffinity.NAME, nodeAffinity.factory],
    [nodePorts.NAME, nodePorts.factory],
    [nodeResourcesFit.NAME, nodeResourcesFit.factory],
    [podTopologySpread.NAME, podTopologySpread.factory],
    [interPodAffinity.NAME, interPodAffinity.factory],
    [balancedAllocation.NAME, balancedAllocation.factory],
    [
      DEFAULT_PREEMPTION_NAME,
      (args, handle) =>
        newDefaultPreemption(args, handle, {
          randomInt: (n) => Math.floor(random() * n),
          clearNominatedNodeName: async (pods) => {
            await Promise.all(pods.map((pod) => writer.clearNominatedNodeName(pod)));
          },
        }),
    ],
    [DEFAULT_BINDER, defaultBinderFactory((pod, node) => writer.bind(pod, node))],
  ]);
}
