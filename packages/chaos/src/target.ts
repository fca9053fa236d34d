import type { ScheduleParts } from './schedule.js';

/**
 * What a chaos run needs of a cluster: its parts, faults on them and what to measure through.
 * `LocalTarget` drives `k8ts up`'s processes; a compose target drives containers the same way
 * (`docker kill`/`start`, `pause`/`unpause`, a network disconnect).
 *
 * Contract: every fault method returns once the fault is in place (a killed part is gone, a paused
 * one stopped, a cut host unreachable) or throws; `restart`, `resume` and `heal` undo them and return
 * once the process runs again (not necessarily serving yet: recovery is measured, not awaited).
 */
export interface ChaosTarget {
  readonly description: string;
  /** The parts faults may pick from, by role. */
  parts(): ScheduleParts;
  /** The part a leader role (`store-leader`, …) names now; a part's own name unchanged. */
  resolve(target: string): Promise<string>;
  kill(part: string): Promise<void>;
  restart(part: string): Promise<void>;
  pause(part: string): Promise<void>;
  resume(part: string): Promise<void>;
  cut(nodeHost: string): Promise<void>;
  heal(nodeHost: string): Promise<void>;
  /**
   * Link faults (isolation, partitions, loss, a slow link) are rules put in a part's own network
   * namespace: the argv prefix that runs a command there (`ip netns exec NS`, `nsenter --net=…`),
   * or undefined when the part shares the host's network (no link faults on it).
   */
  networkNamespace(part: string): readonly string[] | undefined;
  /** The part's address as its peers dial it (undefined when it has none of its own). */
  address(part: string): string | undefined;
  /** Every part's name with whether its process runs now (paused counts as running). */
  processes(): Promise<readonly { readonly name: string; readonly up: boolean }[]>;
  /** Where the workload and the observers connect. */
  readonly endpoints: TargetEndpoints;
  /** The pods each node runs now, from the nodes themselves (not the API): `namespace/name`. */
  runningPods(): Promise<readonly { readonly node: string; readonly pod: string }[]>;
  /** The current leader of each elected role (part names; undefined when none answers). */
  leaders(): Promise<Readonly<Record<string, string | undefined>>>;
  /** Releases the target's connections (the parts keep running). */
  close(): void;
}

export interface TargetEndpoints {
  /** The store members' etcd v3 client URLs (`http://host:port`), by part name. */
  readonly stores: ReadonlyMap<string, string>;
  /** The API servers' gRPC addresses (host:port) for the components' client. */
  readonly apiGrpc: readonly string[];
  /** Each node's address (NodePorts are reached there), by node name. */
  readonly nodeAddresses: ReadonlyMap<string, string>;
}

/** A part's own name unchanged; a leader role (`store-leader`, …) to the part that holds it now, per `leaders`. */
export async function resolveRole(target: string, leaders: () => Promise<Readonly<Record<string, string | undefined>>>): Promise<string> {
  if (!target.endsWith('-leader')) return target;
  const leader = (await leaders())[target];
  if (leader === undefined) throw new Error(`no ${target} found`);
  return leader;
}
