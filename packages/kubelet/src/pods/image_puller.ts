/**
 * Pulling a container's image as the kubelet's image manager: the pull policy (Always, IfNotPresent,
 * Never, defaulted from the tag as the API does), a per-pod-and-image back-off after a failed pull
 * (ErrImagePull, then ImagePullBackOff while it lasts), and upstream's events (Pulling, Pulled,
 * Failed, BackOff).
 */
import type { Clock } from '@k8ts/base';
import type { EventType } from '@k8ts/client';
import type { Container } from 'kubernetes-types/core/v1.js';
import { RuntimeError, type Runtime } from '../runtime/runtime.js';
import type { Backoff } from './backoff.js';
import type { WaitingReason } from './pod_status.js';

export interface PullInput {
  readonly runtime: Runtime;
  readonly backoff: Backoff;
  readonly clock: Clock;
  readonly podUid: string;
  readonly container: Container;
  readonly event: (type: EventType, reason: string, message: string) => void;
}

/** Pulled (or present); or why not, and when the pod should be synced again. */
export type PullResult = { readonly ok: true } | { readonly ok: false; readonly waiting: WaitingReason; readonly retryInMs?: number };

export async function pullImage({ runtime, backoff, clock, podUid, container, event }: PullInput): Promise<PullResult> {
  const image = container.image ?? '';
  const policy = container.imagePullPolicy ?? defaultPullPolicy(image);
  if (policy !== 'Always') {
    const present = (await runtime.listImages()).some((info) => info.names.includes(image));
    if (present) {
      event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return { ok: true };
    }
    if (policy === 'Never') {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      event('Warning', 'ErrImageNeverPull', message);
      return { ok: false, waiting: { reason: 'ErrImageNeverPull', message } };
    }
  }
  const key = `${podUid}/${image}`;
  const remaining = backoff.remainingMs(key, clock.now());
  if (remaining > 0) {
    const message = `Back-off pulling image "${image}"`;
    event('Normal', 'BackOff', message);
    event('Warning', 'Failed', 'Error: ImagePullBackOff');
    return { ok: false, waiting: { reason: 'ImagePullBackOff', message }, retryInMs: remaining };
  }
  event('Normal', 'Pulling', `Pulling image "${image}"`);
  const startMs = clock.now();
  try {
    await runtime.pullImage(image);
  } catch (error) {
    if (!(error instanceof RuntimeError)) throw error;
    backoff.next(key, clock.now());
    const reason = error.code === 'InvalidImageName' ? 'InvalidImageName' : 'ErrImagePull';
    event('Warning', 'Failed', `Failed to pull image "${image}": ${error.message}`);
    event('Warning', 'Failed', `Error: ${reason}`);
    // Synced again halfway through the back-off (status ImagePullBackOff, as upstream's pod worker
    // requeues a failed sync before the pull may be retried), then when it ends (the next pull).
    return { ok: false, waiting: { reason, message: error.message }, retryInMs: backoff.delayMs(key) / 2 };
  }
  const took = goDuration(clock.now() - startMs);
  event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting)`);
  return { ok: true };
}

/** IfNotPresent, unless the image has the tag `latest` or none (then Always), as the API defaults it. */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** A duration as Go prints small ones ("512ms", "1.25s"). */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  return `${Number((ms / 1000).toFixed(3))}s`;
}
