/**
 * The Endpoints object a selector Service should have, and whether the stored one already is it.
 * Labels: the Service's, plus `service.kubernetes.io/headless` for a headless Service. Annotations:
 * the trigger time of the change being written (cleared when there is none), and
 * `endpoints.kubernetes.io/over-capacity: truncated` when addresses were cut to 1000.
 *
 * Compared to upstream, the "already up to date" check uses the truncated subsets and the expected
 * labels (headless label included), so an over-capacity Endpoints is not rewritten on every sync.
 * As upstream, the trigger-time annotation alone never causes a write.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME, LABEL_HEADLESS_SERVICE, isServiceIpSet } from '../framework/endpoint_rules.js';
import { ANNOTATION_OVER_CAPACITY, desiredSubsets, subsetsEqual, truncateSubsets } from './subsets.js';
import { formatRfc3339Nano } from '../framework/endpoint_trigger_time.js';

export function endpointsLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...service.metadata?.labels };
  if (isServiceIpSet(service)) delete labels[LABEL_HEADLESS_SERVICE];
  else labels[LABEL_HEADLESS_SERVICE] = '';
  return labels;
}

/**
 * The object to write for `service` (pods: those its selector picks), or undefined when `current`
 * already holds it. A new object when there is no current one, else a copy of current with its
 * subsets, labels and annotations replaced.
 */
export function planEndpoints(service: Service, current: Endpoints | undefined, pods: readonly Pod[], triggerTimeMs: number | undefined): Endpoints | undefined {
  const { subsets, truncated } = truncateSubsets(desiredSubsets(service, pods));
  const labels = endpointsLabels(service);
  if (
    current !== undefined &&
    subsetsEqual(current.subsets, subsets) &&
    isDeepStrictEqual({ ...current.metadata?.labels }, labels) &&
    (current.metadata?.annotations?.[ANNOTATION_OVER_CAPACITY] !== undefined) === truncated
  ) {
    return undefined;
  }
  const annotations: Record<string, string> = { ...current?.metadata?.annotations };
  if (triggerTimeMs === undefined) delete annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
  else annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] = formatRfc3339Nano(triggerTimeMs);
  if (truncated) annotations[ANNOTATION_OVER_CAPACITY] = 'truncated';
  else delete annotations[ANNOTATION_OVER_CAPACITY];
  const metadata = current?.metadata ?? { name: service.metadata?.name ?? '', namespace: service.metadata?.namespace ?? '' };
  const endpoints: Endpoints = {
    ...current,
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { ...metadata, labels, annotations },
    subsets,
  };
  if (subsets.length === 0) delete endpoints.subsets;
  return endpoints;
}
