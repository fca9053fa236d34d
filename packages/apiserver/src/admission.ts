import { randomInt } from 'node:crypto';
import { apiErrors, type ResourceType } from '@k8ts/apimachinery';
import type { KubeObject, ObjectStore } from './object_store.js';

/** The service CIDR (kube's --service-cluster-ip-range default) and node port range. */
const SERVICE_NETWORK = { base: (10 << 24) | (96 << 16), size: 1 << 20 };
const NODE_PORTS = { first: 30000, last: 32767 };

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  ports?: { nodePort?: number; port?: number }[];
}

/**
 * What kube-apiserver's create path adds after validation: a Service's cluster IP and node ports,
 * a new Pod's Pending status. Allocation here picks an address no stored Service holds; two
 * concurrent creates may race for one, which the service controller of a later issue repairs.
 */
export async function admitCreate(type: ResourceType, object: KubeObject, store: ObjectStore): Promise<void> {
  if (type.group === '' && type.resource === 'services') await allocateServiceAddresses(type, object, store);
  if (type.group === '' && type.resource === 'pods') {
    const status = (object['status'] ?? {}) as Record<string, unknown>;
    object['status'] = { phase: 'Pending', qosClass: qosClass(object), ...status };
  }
}

async function allocateServiceAddresses(type: ResourceType, object: KubeObject, store: ObjectStore): Promise<void> {
  const spec = (object['spec'] ?? {}) as ServiceSpec;
  object['spec'] = spec;
  if (spec.type === 'ExternalName') return;
  const { items } = await store.list(type, undefined);
  const specs = items.map((item) => (item['spec'] ?? {}) as ServiceSpec);
  if (spec.clusterIP === undefined || spec.clusterIP === '') {
    const taken = new Set(specs.map((s) => s.clusterIP));
    spec.clusterIP = pick((i) => ipv4(SERVICE_NETWORK.base + i), SERVICE_NETWORK.size - 2, 1, taken);
  } else if (spec.clusterIP !== 'None' && specs.some((s) => s.clusterIP === spec.clusterIP)) {
    throw apiErrors.invalid(type, object.metadata?.name ?? '', [
      { type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: [spec.clusterIP], detail: `failed to allocate IP ${spec.clusterIP}: provided IP is already allocated` },
    ]);
  }
  spec.clusterIPs = [spec.clusterIP];
  spec.ipFamilies ??= ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    const taken = new Set(specs.flatMap((s) => (s.ports ?? []).map((p) => String(p.nodePort))));
    for (const port of spec.ports ?? []) {
      if (port.nodePort === undefined) {
        port.nodePort = Number(pick((i) => String(NODE_PORTS.first + i), NODE_PORTS.last - NODE_PORTS.first + 1, 0, taken));
        taken.add(String(port.nodePort));
      }
    }
  }
}

/** A random free value: start anywhere in the range and walk to the next free one. */
function pick(valueAt: (i: number) => string, size: number, offset: number, taken: Set<string | undefined>): string {
  const start = randomInt(size);
  for (let step = 0; step < size; step++) {
    const value = valueAt(offset + ((start + step) % size));
    if (!taken.has(value)) return value;
  }
  throw apiErrors.internal('the range of addresses is full');
}

function ipv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

interface Container {
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

/** Kube's QoS class: Guaranteed (limits = requests for cpu and memory everywhere), BestEffort (none), else Burstable. */
function qosClass(pod: KubeObject): string {
  const spec = (pod['spec'] ?? {}) as { containers?: Container[]; initContainers?: Container[] };
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const container of containers) {
    const requests = container.resources?.requests ?? {};
    const limits = container.resources?.limits ?? {};
    if (Object.keys(requests).length + Object.keys(limits).length > 0) any = true;
    for (const resource of ['cpu', 'memory']) {
      const limit = limits[resource];
      const request = requests[resource] ?? limit;
      if (limit === undefined || request !== limit) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
