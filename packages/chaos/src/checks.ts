import { checkHistory, describeOperation, type Operation, type Value, type WriteOperation } from '@k8ts/linearizability';

/**
 * The invariants a chaos run checks, each a pure function of what the run recorded, apart from the
 * code that recorded it, so each can be fed a broken history or state in a test and seen to object.
 */

export interface CheckVerdict {
  readonly name: string;
  readonly ok: boolean;
  /** What was checked, or what broke it. */
  readonly detail: string;
}

/** The register history could have happened one operation at a time (the project's checker). */
export function checkLinearizable(history: readonly Operation[]): CheckVerdict {
  const name = 'register history linearizable';
  const result = checkHistory(history);
  if (result.ok) return { name, ok: true, detail: `${history.length} operations on ${result.keysChecked} keys` };
  if (result.verdict === 'unknown') return { name, ok: false, detail: `undecided on ${result.key}: ${result.reason}` };
  return { name, ok: false, detail: result.explanation.message };
}

/** A read at the end of the run, after every write: what each key holds. */
export interface FinalRead {
  readonly key: string;
  readonly value: Value;
  /** When the read was sent, on the history's clock. */
  readonly invokedAt: number;
}

/**
 * No acknowledged write lost: each key's final value is one some write could have left last. A
 * write is surely overwritten when an acknowledged write to the key was invoked after it was
 * acknowledged; the final value must come from a write that is not (an acknowledged one, or one
 * without an answer, which may take effect late). A key that an acknowledged write set must not
 * read absent, nor hold a value no write wrote.
 */
export function checkNoLostWrites(history: readonly Operation[], finalReads: readonly FinalRead[]): CheckVerdict {
  const name = 'no acknowledged write lost';
  const problems: string[] = [];
  let acknowledged = 0;
  for (const final of finalReads) {
    const writes = history.filter((op): op is WriteOperation => op.kind === 'write' && op.key === final.key && op.outcome !== 'fail' && op.invokedAt < final.invokedAt);
    const acked = writes.filter((op) => op.outcome === 'ok');
    acknowledged += acked.length;
    const overwritten = (write: WriteOperation): boolean =>
      write.outcome === 'ok' && acked.some((later) => later.invokedAt > (write.completedAt as number));
    const candidates = writes.filter((write) => !overwritten(write));
    if (candidates.some((write) => write.value === final.value)) continue;
    if (final.value === null && acked.length === 0) continue;
    const last = acked.reduce<WriteOperation | undefined>((latest, op) => (latest === undefined || (op.completedAt as number) > (latest.completedAt as number) ? op : latest), undefined);
    const wrote = writes.find((write) => write.value === final.value);
    problems.push(
      `${final.key} reads ${final.value === null ? 'absent' : JSON.stringify(final.value)} at the end` +
        (wrote === undefined ? ', a value no write wrote' : `, written by ${describeOperation(wrote)}, which a later acknowledged write overwrote`) +
        (last === undefined ? '' : `; the last acknowledged write was ${describeOperation(last)}`),
    );
  }
  if (problems.length > 0) return { name, ok: false, detail: problems.join('\n') };
  return { name, ok: true, detail: `${finalReads.length} keys read at the end agree with ${acknowledged} acknowledged writes` };
}

/** One look at a Deployment: what it asks for and how many of its replicas are ready. */
export interface ReplicaSample {
  readonly atMs: number;
  readonly desired: number;
  readonly ready: number;
  /** Its latest rollout is complete (undefined: not looked at). */
  readonly rolledOut?: boolean;
  /** When not: the status's counts, to say why. */
  readonly rollout?: string;
}

/**
 * The Deployment is back to its desired ready replicas within `boundMs` of the last heal: some
 * sample at or after the heal, and no later than the bound, shows at least the desired replicas
 * ready (a rollout's surge may add one) and its latest rollout complete.
 */
export function checkDeploymentRecovered(samples: readonly ReplicaSample[], lastHealAtMs: number, boundMs: number): CheckVerdict {
  const name = `deployment back to desired ready replicas within ${boundMs / 1000} s of the last heal`;
  const after = samples.filter((sample) => sample.atMs >= lastHealAtMs);
  const recovered = after.find((sample) => sample.ready >= sample.desired && sample.rolledOut !== false);
  if (recovered !== undefined && recovered.atMs - lastHealAtMs <= boundMs) {
    return { name, ok: true, detail: `${recovered.ready}/${recovered.desired} ready ${((recovered.atMs - lastHealAtMs) / 1000).toFixed(1)} s after the last heal` };
  }
  const last = after.at(-1);
  const seen = last === undefined ? 'no sample after the last heal' : `last seen ${last.ready}/${last.desired} ready${last.rolledOut === false ? `, rollout not complete (${last.rollout ?? '?'}),` : ''} at ${((last.atMs - lastHealAtMs) / 1000).toFixed(1)} s`;
  return { name, ok: false, detail: recovered === undefined ? `never back: ${seen}` : `back only after ${((recovered.atMs - lastHealAtMs) / 1000).toFixed(1)} s` };
}

/** The pods the nodes themselves ran at one moment. */
export interface PodPlacementSample {
  readonly atMs: number;
  readonly pods: readonly { readonly node: string; readonly pod: string }[];
}

/** No pod ran on two nodes at once: in no sample does one pod name appear on two nodes. */
export function checkNoPodTwice(samples: readonly PodPlacementSample[]): CheckVerdict {
  const name = 'no pod running on two nodes at once';
  const problems: string[] = [];
  for (const sample of samples) {
    const nodesOf = new Map<string, Set<string>>();
    for (const { node, pod } of sample.pods) nodesOf.set(pod, (nodesOf.get(pod) ?? new Set()).add(node));
    for (const [pod, nodes] of nodesOf) {
      if (nodes.size > 1) problems.push(`${pod} running on ${[...nodes].sort().join(' and ')} at ${(sample.atMs / 1000).toFixed(1)} s`);
    }
  }
  if (problems.length > 0) return { name, ok: false, detail: [...new Set(problems)].slice(0, 10).join('\n') };
  return { name, ok: true, detail: `${samples.length} samples of the nodes' running pods` };
}

/** Every process of the cluster runs at the end (restarted where a fault killed it). */
export function checkProcessesUp(processes: readonly { readonly name: string; readonly up: boolean }[]): CheckVerdict {
  const name = 'every process up at the end';
  const down = processes.filter((p) => !p.up).map((p) => p.name);
  if (processes.length === 0) return { name, ok: false, detail: 'no processes known' };
  if (down.length > 0) return { name, ok: false, detail: `not running: ${down.join(', ')}` };
  return { name, ok: true, detail: `${processes.length} processes running` };
}
