import type { CheckVerdict } from './checks.js';

/**
 * "Services answer from ready pods only": every request a Service answered was answered by a pod
 * the API had as ready to serve (Ready condition True, not being deleted) at that moment, give or
 * take the time it takes the news to reach the node that forwarded it.
 *
 * The news travels: the pod's status write (or its deletion) → the endpoints controller's watch →
 * an Endpoints/EndpointSlice write → each kube-proxy's watch → its forwarding table. Upstream
 * bounds none of this; here each hop is a watch event on an idle-ish cluster, and the API's own
 * timestamps (Ready's lastTransitionTime, the deletion's time) are whole seconds, so an answer
 * counts as served by a not-ready pod only when it was sent more than `allowanceMs` after the pod
 * stopped being ready. While nobody can carry the news the allowance waits (upstream behaves the
 * same: kube-proxy keeps the last endpoints it saw): while no controller-manager leader runs (no
 * endpoints controller), and, for requests forwarded by one node, while that node is cut off or its
 * agent (kube-proxy's host) is down or paused.
 */

/** One request a Service answered, with the pod that answered it. */
export interface ServiceAnswer {
  readonly atMs: number;
  readonly doneAtMs: number;
  readonly pod: string;
  /** How it came in (`node port of node-1`, `cluster IP from node-2`), for the report. */
  readonly via: string;
  /** The node whose kube-proxy forwarded it (the node port's node; the client pod's node for the cluster IP). */
  readonly node?: string;
}

/** One look at a pod through the API (a watch event), times on the run's clock. */
export interface PodReadinessObservation {
  readonly pod: string;
  /** When this state was observed. */
  readonly atMs: number;
  /** Ready condition True and no deletion asked for. */
  readonly serving: boolean;
  /**
   * When the pod entered this state per the API: Ready's lastTransitionTime, or the time its
   * deletion was asked for (deletionTimestamp less its grace period). Undefined: `atMs` is all we know.
   */
  readonly sinceMs?: number;
  /** The pod is gone from the API (a watched delete). */
  readonly gone?: boolean;
}

/** An interval when a pod was serving; `toMs` undefined: still at the last observation. */
export interface ServingInterval {
  readonly fromMs: number;
  readonly toMs?: number;
}

/** Each pod's serving intervals, from its observations in the order they were seen. */
export function servingIntervals(observations: readonly PodReadinessObservation[]): Map<string, ServingInterval[]> {
  const byPod = new Map<string, ServingInterval[]>();
  const open = new Map<string, number>();
  for (const observation of [...observations].sort((a, b) => a.atMs - b.atMs)) {
    const since = Math.min(observation.sinceMs ?? observation.atMs, observation.atMs);
    const started = open.get(observation.pod);
    if (observation.serving && observation.gone !== true) {
      if (started === undefined) open.set(observation.pod, since);
      continue;
    }
    if (started !== undefined) {
      const intervals = byPod.get(observation.pod) ?? [];
      intervals.push({ fromMs: started, toMs: Math.max(since, started) });
      byPod.set(observation.pod, intervals);
      open.delete(observation.pod);
    } else if (!byPod.has(observation.pod)) {
      byPod.set(observation.pod, []);
    }
  }
  for (const [pod, fromMs] of open) byPod.set(pod, [...(byPod.get(pod) ?? []), { fromMs }]);
  return byPod;
}

/** An interval when endpoint news could not arrive: everywhere, or on one node only. */
export interface Interval {
  readonly fromMs: number;
  readonly toMs: number;
  /** Only requests this node forwarded. */
  readonly node?: string;
}

export function checkServedByReadyPods(
  answers: readonly ServiceAnswer[],
  observations: readonly PodReadinessObservation[],
  noEndpointsUpdater: readonly Interval[],
  allowanceMs: number,
): CheckVerdict {
  const name = `Services answer from ready pods only (${allowanceMs / 1000} s allowed for endpoints to follow)`;
  const intervals = servingIntervals(observations);
  // The news of a pod's end is due at a node `allowanceMs` after it, counted from when it could travel again.
  const gaps = [...noEndpointsUpdater].sort((a, b) => a.fromMs - b.fromMs);
  const dueBy = (endMs: number, node: string | undefined): number => {
    let due = endMs;
    for (const gap of gaps) {
      if (gap.node !== undefined && gap.node !== node) continue;
      if (gap.fromMs <= due + allowanceMs && gap.toMs > due) due = gap.toMs;
    }
    return due + allowanceMs;
  };
  const problems: string[] = [];
  let checked = 0;
  // The latest an answer came after its pod stopped serving (within the allowance): how close the run came to the bound.
  let latest: { afterMs: number; answer: ServiceAnswer; endMs: number } | undefined;
  for (const answer of answers) {
    checked++;
    const served = intervals.get(answer.pod);
    if (served === undefined) {
      problems.push(`${answer.pod} answered (${answer.via}) at ${seconds(answer.atMs)} but was never seen in the API`);
      continue;
    }
    const fine = served.find((interval) => interval.fromMs <= answer.doneAtMs && (interval.toMs === undefined || answer.atMs <= dueBy(interval.toMs, answer.node)));
    if (fine !== undefined) {
      // Counted from when the news could travel (the margin the allowance left).
      const newsFromMs = fine.toMs === undefined ? undefined : dueBy(fine.toMs, answer.node) - allowanceMs;
      if (newsFromMs !== undefined && answer.atMs - newsFromMs > (latest?.afterMs ?? 0)) latest = { afterMs: answer.atMs - newsFromMs, answer, endMs: fine.toMs as number };
      continue;
    }
    const before = served.filter((interval) => interval.fromMs <= answer.doneAtMs).at(-1);
    problems.push(
      `${answer.pod} answered (${answer.via}) at ${seconds(answer.atMs)}, ` +
        (before?.toMs === undefined ? 'before the API had it ready' : `${seconds(answer.atMs - before.toMs)} after it stopped being ready at ${seconds(before.toMs)}`),
    );
  }
  if (problems.length > 0) return { name, ok: false, detail: `${problems.length} of ${checked} answers from pods not ready:\n${problems.slice(0, 10).join('\n')}` };
  const closest = latest === undefined ? '' : `; the latest came ${seconds(latest.afterMs)} after the news that its pod stopped being ready could reach its node (${latest.answer.pod}, not ready at ${seconds(latest.endMs)}, answering ${latest.answer.via} at ${seconds(latest.answer.atMs)})`;
  return { name, ok: true, detail: `${checked} answers from ${new Set(answers.map((answer) => answer.pod)).size} pods, each ready when it answered${closest}` };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * The stretches when the monitor saw no holder of `role` (e.g. `controller-manager-leader`): each
 * from the last sample that saw one to the next that does again (to the last sample if none does).
 */
export function leaderlessIntervals(samples: readonly { readonly atMs: number; readonly leaders: Readonly<Record<string, string | undefined>> }[], role: string): Interval[] {
  const intervals: Interval[] = [];
  let lastWithLeaderMs: number | undefined;
  let openFromMs: number | undefined;
  for (const sample of samples) {
    if (sample.leaders[role] === undefined) {
      openFromMs ??= lastWithLeaderMs ?? sample.atMs;
      continue;
    }
    if (openFromMs !== undefined) intervals.push({ fromMs: openFromMs, toMs: sample.atMs });
    openFromMs = undefined;
    lastWithLeaderMs = sample.atMs;
  }
  const last = samples.at(-1);
  if (openFromMs !== undefined && last !== undefined) intervals.push({ fromMs: openFromMs, toMs: last.atMs });
  return intervals;
}
