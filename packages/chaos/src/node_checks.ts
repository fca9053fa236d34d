import type { CheckVerdict } from './checks.js';

/**
 * The checks about nodes: none over-committed, and the pods of a dead node replaced elsewhere. Pure
 * functions of samples the run took (the nodes' own records of what they run, the API's Nodes and
 * pods), apart from the scheduler, kubelet and controllers whose work they check.
 */

/** What a pod asks of its node (cpu in millicores, memory in bytes). */
export interface PodRequests {
  readonly milliCpu: number;
  readonly memory: number;
}

/** One node at one moment: its allocatable (from the API) and the pods it runs (from its own records). */
export interface NodeLoad {
  readonly node: string;
  /** Undefined when the API has no such Node (then nothing is checked for it). */
  readonly allocatable?: PodRequests & { readonly pods: number };
  /** Each running pod with its requests (undefined: the API never showed this pod). */
  readonly pods: readonly { readonly pod: string; readonly requests?: PodRequests }[];
}

export interface NodeLoadSample {
  readonly atMs: number;
  readonly nodes: readonly NodeLoad[];
}

/**
 * No node over-committed: in no sample do the pods a node runs ask for more cpu or memory, or
 * number more, than the node's allocatable. (Only requests count, as for the scheduler and the
 * kubelet's admission; a pod the API never showed counts for its number only.)
 */
export function checkNoNodeOvercommitted(samples: readonly NodeLoadSample[]): CheckVerdict {
  const name = 'no node over-committed';
  const problems = new Set<string>();
  let looks = 0;
  let most = { node: '', share: 0 };
  for (const sample of samples) {
    for (const load of sample.nodes) {
      const allocatable = load.allocatable;
      if (allocatable === undefined) continue;
      looks++;
      const milliCpu = load.pods.reduce((sum, pod) => sum + (pod.requests?.milliCpu ?? 0), 0);
      const memory = load.pods.reduce((sum, pod) => sum + (pod.requests?.memory ?? 0), 0);
      const over: string[] = [];
      if (milliCpu > allocatable.milliCpu) over.push(`cpu ${milliCpu}m of ${allocatable.milliCpu}m`);
      if (memory > allocatable.memory) over.push(`memory ${mebibytes(memory)} of ${mebibytes(allocatable.memory)}`);
      if (load.pods.length > allocatable.pods) over.push(`${load.pods.length} pods of ${allocatable.pods}`);
      if (over.length > 0) problems.add(`${load.node} at ${(sample.atMs / 1000).toFixed(1)} s: ${over.join(', ')} (${load.pods.map((pod) => pod.pod).join(', ')})`);
      const share = Math.max(allocatable.milliCpu > 0 ? milliCpu / allocatable.milliCpu : 0, allocatable.memory > 0 ? memory / allocatable.memory : 0);
      if (share >= most.share) most = { node: load.node, share };
    }
  }
  if (problems.size > 0) return { name, ok: false, detail: [...problems].slice(0, 10).join('\n') };
  if (looks === 0) return { name, ok: false, detail: 'no sample of a node with its allocatable' };
  return { name, ok: true, detail: `${looks} looks at nodes' running pods; the fullest, ${most.node}, asked for ${(most.share * 100).toFixed(0)}% of its allocatable` };
}

const mebibytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)}Mi`;

/** One look through the API at the Nodes and the Deployment's pods. */
export interface PlacementSample {
  readonly atMs: number;
  /** The Deployment's desired replicas. */
  readonly desired: number;
  readonly nodes: readonly {
    readonly name: string;
    readonly ready: boolean;
    /** When the node lifecycle controller tainted it unreachable or not-ready (NoExecute), if it has. */
    readonly noExecuteSinceMs?: number;
    readonly noExecuteKey?: string;
  }[];
  readonly pods: readonly {
    readonly name: string;
    readonly node?: string;
    readonly ready: boolean;
    readonly deleting: boolean;
    /** How long it tolerates its node's NoExecute taint: 0 none, Infinity forever. Only for pods on a tainted node. */
    readonly toleratesMs?: number;
  }[];
}

/**
 * Pods of a dead node replaced elsewhere. Upstream does not move pods off a node the moment it
 * stops answering: the node lifecycle controller marks it Unknown after the grace period and taints
 * it NoExecute; the taint manager evicts each pod once its toleration of that taint runs out (300 s
 * by default, DefaultTolerationSeconds); the ReplicaSet then makes new ones, which the scheduler puts
 * on live nodes. So: for each node tainted so, once every one of its Deployment pods' tolerations
 * has run out with the taint still on, the Deployment must have its desired replicas ready on Ready
 * nodes within `boundMs`. A node back before that owes nothing; nor do pods tolerating it forever.
 */
export function checkDeadNodePodsReplaced(samples: readonly PlacementSample[], boundMs: number): CheckVerdict {
  const name = `pods of a dead node replaced elsewhere within ${boundMs / 1000} s of their eviction`;
  const episodes = new Map<string, { node: string; sinceMs: number; key: string; first: PlacementSample }>();
  for (const sample of samples) {
    for (const node of sample.nodes) {
      if (node.noExecuteSinceMs === undefined) continue;
      const id = `${node.name}@${node.noExecuteSinceMs}`;
      if (!episodes.has(id)) episodes.set(id, { node: node.name, sinceMs: node.noExecuteSinceMs, key: node.noExecuteKey ?? 'NoExecute', first: sample });
    }
  }
  if (episodes.size === 0) return { name, ok: true, detail: 'no Node was lost long enough to be tainted NoExecute (unreachable or not-ready): nothing was due to move' };
  const problems: string[] = [];
  const notes: string[] = [];
  for (const episode of episodes.values()) {
    const pods = episode.first.pods.filter((pod) => pod.node === episode.node && !pod.deleting);
    const label = `${episode.node} (tainted ${episode.key} at ${seconds(episode.sinceMs)})`;
    if (pods.length === 0) {
      notes.push(`${label}: none of the Deployment's pods on it`);
      continue;
    }
    const dueAtMs = episode.sinceMs + Math.max(...pods.map((pod) => pod.toleratesMs ?? 0));
    if (!Number.isFinite(dueAtMs)) {
      notes.push(`${label}: its pods tolerate the taint forever, so stay`);
      continue;
    }
    const stillTainted = (sample: PlacementSample): boolean => sample.nodes.some((node) => node.name === episode.node && node.noExecuteSinceMs === episode.sinceMs);
    const afterDue = samples.filter((sample) => sample.atMs >= dueAtMs);
    // The first look at or after the eviction was due (or the last look of the run) says whether the node was still out.
    const judged = afterDue[0] ?? samples.at(-1);
    if (judged !== undefined && !stillTainted(judged)) {
      notes.push(`${label}: back before its pods were due to be evicted at ${seconds(dueAtMs)}`);
      continue;
    }
    if (afterDue.length === 0) {
      notes.push(`${label}: eviction due at ${seconds(dueAtMs)}, after the run`);
      continue;
    }
    const readyOnLiveNodes = (sample: PlacementSample): number => {
      const live = new Set(sample.nodes.filter((node) => node.ready && node.noExecuteSinceMs === undefined).map((node) => node.name));
      return sample.pods.filter((pod) => pod.ready && !pod.deleting && pod.node !== undefined && live.has(pod.node)).length;
    };
    const replaced = afterDue.find((sample) => sample.atMs <= dueAtMs + boundMs && readyOnLiveNodes(sample) >= sample.desired);
    if (replaced !== undefined) {
      notes.push(`${label}: pods due out at ${seconds(dueAtMs)}, ${sample(replaced, readyOnLiveNodes)} ready on live nodes ${seconds(replaced.atMs - dueAtMs)} later`);
      continue;
    }
    const within = afterDue.filter((sample) => sample.atMs <= dueAtMs + boundMs);
    const last = within.at(-1) ?? afterDue[0];
    if (last !== undefined && last.atMs < dueAtMs + boundMs && last === samples.at(-1)) {
      notes.push(`${label}: pods due out at ${seconds(dueAtMs)}; the run ended ${seconds(last.atMs - dueAtMs)} later, within the bound, with ${sample(last, readyOnLiveNodes)} ready on live nodes`);
      continue;
    }
    problems.push(`${label}: pods (${pods.map((pod) => pod.name).join(', ')}) due out at ${seconds(dueAtMs)}, not replaced within ${seconds(boundMs)}: last seen ${last === undefined ? '—' : sample(last, readyOnLiveNodes)} ready on live nodes`);
  }
  if (problems.length > 0) return { name, ok: false, detail: [...problems, ...notes].join('\n') };
  return { name, ok: true, detail: notes.join('\n') };
}

function sample(s: PlacementSample, readyOnLiveNodes: (s: PlacementSample) => number): string {
  return `${readyOnLiveNodes(s)}/${s.desired}`;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
