/**
 * Which log file answers a `kubectl logs` request, as the kubelet's validateContainerLogStatus decides
 * it from the pod's status (the running container, the last terminated one for `--previous` or while
 * the container waits to restart), with upstream's messages when there is none.
 *
 * A container's files are `<logDirectory>/<container>/<restartCount>.log`: the container that runs
 * (or ran last) writes `<restartCount>.log`, the one before it `<restartCount - 1>.log`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerStatus, PodStatus } from 'kubernetes-types/core/v1.js';

/** Where a pod's logs are on this node (the kubelet's `locate`); more fields may come with it. */
export interface LogLocation {
  readonly podUid: string;
  readonly logDirectory: string;
}

/** A request that cannot be answered; the message is upstream's text, shown by kubectl as is. */
export class LogRequestError extends Error {
  override readonly name = 'LogRequestError';
}

export interface ChosenLog {
  readonly path: string;
  /** The restart count the choice was made at (a follow ends when the container restarts). */
  readonly restartCount: number | undefined;
  /** Whether the chosen container still runs (a follow then waits for more). */
  readonly running: boolean;
}

export function containerStatusOf(status: PodStatus | undefined, container: string): ContainerStatus | undefined {
  const all = [...(status?.containerStatuses ?? []), ...(status?.initContainerStatuses ?? []), ...(status?.ephemeralContainerStatuses ?? [])];
  return all.find((candidate) => candidate.name === container);
}

/** The restart counts that have a log file in the container's folder, ascending. */
export function loggedAttempts(logDirectory: string, container: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync(join(logDirectory, container));
  } catch {
    return [];
  }
  return entries
    .map((entry) => /^(\d+)\.log$/.exec(entry)?.[1])
    .filter((attempt): attempt is string => attempt !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

export function chooseLogFile(input: {
  readonly pod: string;
  readonly container: string;
  readonly previous: boolean;
  readonly logDirectory: string;
  /** The pod's status as the kubelet knows it; without it the files alone decide. */
  readonly status: PodStatus | undefined;
  readonly knowsStatus: boolean;
}): ChosenLog {
  const { pod, container, previous, logDirectory } = input;
  const attempts = loggedAttempts(logDirectory, container);
  const file = (attempt: number): string => join(logDirectory, container, `${attempt}.log`);
  const quoted = `container "${container}" in pod "${pod}"`;
  const notFoundPrevious = new LogRequestError(`previous terminated container "${container}" in pod "${pod}" not found`);

  if (!input.knowsStatus) {
    const latest = attempts.at(-1) ?? 0;
    if (!previous) return { path: file(latest), restartCount: undefined, running: true };
    const before = attempts.at(-2);
    if (before === undefined) throw notFoundPrevious;
    return { path: file(before), restartCount: undefined, running: false };
  }

  const status = containerStatusOf(input.status, container);
  if (status === undefined) throw new LogRequestError(`${quoted} is not available`);
  const restartCount = status.restartCount ?? 0;
  const state = status.state ?? {};
  const lastTerminated = status.lastState?.terminated;
  const hasOwnContainer = state.running !== undefined || (state.terminated !== undefined && state.terminated.containerID !== undefined && state.terminated.containerID !== '');
  // The last terminated container: the one before the current, or, while waiting to restart, the latest.
  const lastTerminatedFile = (): string => {
    if (hasOwnContainer) return file(restartCount - 1);
    return attempts.includes(restartCount) || !attempts.includes(restartCount - 1) ? file(restartCount) : file(restartCount - 1);
  };
  const answer = (path: string, running: boolean): ChosenLog => ({ path, restartCount, running });

  if (previous) {
    if (lastTerminated === undefined) throw notFoundPrevious;
    return answer(lastTerminatedFile(), false);
  }
  if (state.running !== undefined) return answer(file(restartCount), true);
  if (state.terminated !== undefined) {
    if (hasOwnContainer) return answer(file(restartCount), false);
    if (lastTerminated !== undefined) return answer(lastTerminatedFile(), false);
    throw new LogRequestError(`${quoted} is terminated`);
  }
  if (lastTerminated !== undefined) return answer(lastTerminatedFile(), false);
  if (state.waiting !== undefined) {
    const reason = state.waiting.reason ?? '';
    if (reason === 'ErrImagePull') throw new LogRequestError(`${quoted} is waiting to start: image can't be pulled`);
    if (reason === 'ImagePullBackOff') throw new LogRequestError(`${quoted} is waiting to start: trying and failing to pull image`);
    throw new LogRequestError(`${quoted} is waiting to start: ${reason}`);
  }
  throw new LogRequestError(`${quoted} is waiting to start - no logs yet`);
}
