/**
 * Resource amounts as the scheduler counts them (kube's framework.Resource): cpu in millicores,
 * memory and ephemeral storage in bytes, a pod count, and extended resources ("nvidia.com/gpu",
 * "hugepages-2Mi") by name, as integers.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { integerValue, milliValue, tryParseQuantity } from '@k8ts/apimachinery';

export interface Resource {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  allowedPodNumber: number;
  scalar: Map<string, number>;
}

export function emptyResource(): Resource {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0, scalar: new Map() };
}

export function cloneResource(resource: Resource): Resource {
  return { ...resource, scalar: new Map(resource.scalar) };
}

/**
 * Parsed quantities by their text: every pod event parses its requests again, and clusters repeat a
 * few texts ("100m", "500Mi") endlessly. Bounded: cleared when full.
 */
const parsedQuantities = new Map<string | number, { milli: number; integer: number } | null>();
const PARSED_QUANTITIES_LIMIT = 4096;

function parsedQuantity(text: string | number): { milli: number; integer: number } | null {
  let parsed = parsedQuantities.get(text);
  if (parsed === undefined) {
    const quantity = tryParseQuantity(text);
    parsed = quantity === undefined ? null : { milli: milliValue(quantity), integer: integerValue(quantity) };
    if (parsedQuantities.size >= PARSED_QUANTITIES_LIMIT) parsedQuantities.clear();
    parsedQuantities.set(text, parsed);
  }
  return parsed;
}

/** A resource list (`{cpu: "500m", memory: "1Gi", "example.com/foo": "2"}`) as a Resource. */
export function resourceFromList(list: Readonly<Record<string, string | number>> | undefined): Resource {
  const resource = emptyResource();
  if (list === undefined) return resource;
  for (const name in list) {
    const quantity = parsedQuantity(list[name] as string | number);
    if (quantity === null) continue;
    switch (name) {
      case 'cpu':
        resource.milliCpu = quantity.milli;
        break;
      case 'memory':
        resource.memory = quantity.integer;
        break;
      case 'ephemeral-storage':
        resource.ephemeralStorage = quantity.integer;
        break;
      case 'pods':
        resource.allowedPodNumber = quantity.integer;
        break;
      default:
        if (isScalarResourceName(name)) resource.scalar.set(name, quantity.integer);
    }
  }
  return resource;
}

/** Extended resources (a domain-qualified name outside kubernetes.io), hugepages and attachable volumes. */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  return name.includes('/') && !name.startsWith('kubernetes.io/') && !name.includes('.kubernetes.io/');
}

export function addResource(into: Resource, other: Resource, sign: 1 | -1 = 1): void {
  into.milliCpu += sign * other.milliCpu;
  into.memory += sign * other.memory;
  into.ephemeralStorage += sign * other.ephemeralStorage;
  into.allowedPodNumber += sign * other.allowedPodNumber;
  for (const [name, value] of other.scalar) into.scalar.set(name, (into.scalar.get(name) ?? 0) + sign * value);
}

function maxResource(into: Resource, other: Resource): void {
  into.milliCpu = Math.max(into.milliCpu, other.milliCpu);
  into.memory = Math.max(into.memory, other.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, other.ephemeralStorage);
  for (const [name, value] of other.scalar) into.scalar.set(name, Math.max(into.scalar.get(name) ?? 0, value));
}

/** Requests scoring assumes for a container that requests no cpu/memory (kube: 100m, 200Mi). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/**
 * What a pod asks of its node, as kube's PodRequests: the sum over its containers, raised to the
 * largest init container (init containers run one at a time, before the others; a restartable
 * "sidecar" init container keeps running, so it adds), plus the pod's overhead.
 * `nonZero`: a container's missing cpu/memory request counts as the defaults above (for scoring,
 * so that empty pods still spread).
 */
export function podRequests(pod: Pod, options: { nonZero?: boolean } = {}): Resource {
  const nonZero = options.nonZero ?? false;
  const containers = emptyResource();
  for (const container of pod.spec?.containers ?? []) addResource(containers, containerRequests(container, nonZero));
  const sidecars = emptyResource();
  const initMax = emptyResource();
  for (const container of pod.spec?.initContainers ?? []) {
    const requests = containerRequests(container, nonZero);
    if (container.restartPolicy === 'Always') {
      addResource(sidecars, requests);
      maxResource(initMax, sidecars);
    } else {
      const running = cloneResource(sidecars);
      addResource(running, requests);
      maxResource(initMax, running);
    }
  }
  addResource(containers, sidecars);
  maxResource(containers, initMax);
  addResource(containers, resourceFromList(pod.spec?.overhead as Record<string, string> | undefined));
  return containers;
}

function containerRequests(container: Container, nonZero: boolean): Resource {
  const requests = resourceFromList(container.resources?.requests as Record<string, string> | undefined);
  if (nonZero) {
    const asked = container.resources?.requests ?? {};
    if (asked['cpu'] === undefined) requests.milliCpu = DEFAULT_MILLI_CPU_REQUEST;
    if (asked['memory'] === undefined) requests.memory = DEFAULT_MEMORY_REQUEST;
  }
  return requests;
}
