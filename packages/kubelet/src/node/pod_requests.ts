/**
 * What a pod asks of its node, counted as the scheduler counts it (kube's PodRequests; the same
 * rule as @k8ts/scheduler's podRequests, which the kubelet does not depend on): the sum over its
 * containers plus its restartable init containers (sidecars, which keep running), raised to what
 * the init phase needs at its peak (each init container runs alone, beside the sidecars started
 * before it), plus spec.overhead.
 */
import { integerValue, milliValue, tryParseQuantity } from '@k8ts/apimachinery';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';

export interface PodRequests {
  cpuMillis: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
}

const zero = (): PodRequests => ({ cpuMillis: 0, memoryBytes: 0, ephemeralStorageBytes: 0 });

function add(into: PodRequests, other: PodRequests): void {
  into.cpuMillis += other.cpuMillis;
  into.memoryBytes += other.memoryBytes;
  into.ephemeralStorageBytes += other.ephemeralStorageBytes;
}

function raise(into: PodRequests, other: PodRequests): void {
  into.cpuMillis = Math.max(into.cpuMillis, other.cpuMillis);
  into.memoryBytes = Math.max(into.memoryBytes, other.memoryBytes);
  into.ephemeralStorageBytes = Math.max(into.ephemeralStorageBytes, other.ephemeralStorageBytes);
}

/** cpu, memory and ephemeral-storage of a resource list; unreadable quantities count as none. */
export function requestsFromList(list: Readonly<Record<string, unknown>> | undefined): PodRequests {
  const parse = (name: string): ReturnType<typeof tryParseQuantity> => tryParseQuantity(list?.[name]);
  const cpu = parse('cpu');
  const memory = parse('memory');
  const storage = parse('ephemeral-storage');
  return {
    cpuMillis: cpu === undefined ? 0 : milliValue(cpu),
    memoryBytes: memory === undefined ? 0 : integerValue(memory),
    ephemeralStorageBytes: storage === undefined ? 0 : integerValue(storage),
  };
}

const containerRequests = (container: Container): PodRequests => requestsFromList(container.resources?.requests as Record<string, unknown> | undefined);

export function podRequests(pod: Pod): PodRequests {
  const total = zero();
  for (const container of pod.spec?.containers ?? []) add(total, containerRequests(container));
  const sidecars = zero();
  const initPeak = zero();
  for (const container of pod.spec?.initContainers ?? []) {
    const requests = containerRequests(container);
    if (container.restartPolicy === 'Always') {
      add(sidecars, requests);
      raise(initPeak, sidecars);
    } else {
      const running = { ...sidecars };
      add(running, requests);
      raise(initPeak, running);
    }
  }
  add(total, sidecars);
  raise(total, initPeak);
  add(total, requestsFromList(pod.spec?.overhead as Record<string, unknown> | undefined));
  return total;
}
