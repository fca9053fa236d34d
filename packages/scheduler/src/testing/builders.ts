/**
 * Small builders for readable scheduler tests: `node('n1').cpu('4').memory('8Gi').zone('a').taint(...)`
 * and `pod('p').request({cpu: '500m'}).priority(10)`. Test-only (not exported from the package).
 */
import type { Container, Node, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { NodeInfo } from '../framework/node_info.js';

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export class NodeBuilder {
  readonly object: Node;

  constructor(name: string) {
    this.object = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, uid: `uid-node-${name}`, labels: { [HOSTNAME_LABEL]: name } },
      spec: {},
      status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' } },
    };
  }

  /** Sets allocatable (and capacity) of one resource. */
  allocatable(resources: Record<string, string>): this {
    Object.assign(this.object.status!.allocatable!, resources);
    Object.assign(this.object.status!.capacity!, resources);
    return this;
  }
  cpu(amount: string): this {
    return this.allocatable({ cpu: amount });
  }
  memory(amount: string): this {
    return this.allocatable({ memory: amount });
  }
  pods(count: number): this {
    return this.allocatable({ pods: String(count) });
  }
  label(key: string, value: string): this {
    this.object.metadata!.labels![key] = value;
    return this;
  }
  zone(zone: string): this {
    return this.label(ZONE_LABEL, zone);
  }
  taint(key: string, value: string | undefined, effect: Taint['effect']): this {
    const taint: Taint = { key, effect, ...(value !== undefined ? { value } : {}) };
    this.object.spec!.taints = [...(this.object.spec!.taints ?? []), taint];
    return this;
  }
  unschedulable(): this {
    this.object.spec!.unschedulable = true;
    return this;
  }
  build(): Node {
    return structuredClone(this.object);
  }
  /** A NodeInfo of this node holding `pods`. */
  info(...pods: Pod[]): NodeInfo {
    return new NodeInfo(this.build(), pods);
  }
}

export class PodBuilder {
  readonly object: Pod;

  constructor(name: string, namespace = 'default') {
    this.object = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, uid: `uid-pod-${namespace}-${name}`, labels: {}, creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { containers: [{ name: 'main', image: 'busybox' }] },
      status: { phase: 'Pending' },
    };
  }

  private get main(): Container {
    return this.object.spec!.containers[0]!;
  }

  /** Requests of the first container. */
  request(resources: Record<string, string>): this {
    this.main.resources = { ...this.main.resources, requests: { ...this.main.resources?.requests, ...resources } };
    return this;
  }
  /** Adds a container with these requests. */
  container(name: string, requests: Record<string, string> = {}): this {
    this.object.spec!.containers.push({ name, image: 'busybox', resources: { requests } });
    return this;
  }
  initContainer(name: string, requests: Record<string, string>, restartPolicy?: 'Always'): this {
    const container: Container = { name, image: 'busybox', resources: { requests }, ...(restartPolicy ? { restartPolicy } : {}) };
    this.object.spec!.initContainers = [...(this.object.spec!.initContainers ?? []), container];
    return this;
  }
  hostPort(port: number, protocol = 'TCP', hostIP?: string): this {
    this.main.ports = [...(this.main.ports ?? []), { containerPort: port, hostPort: port, protocol, ...(hostIP ? { hostIP } : {}) }];
    return this;
  }
  label(key: string, value: string): this {
    this.object.metadata!.labels![key] = value;
    return this;
  }
  node(nodeName: string): this {
    this.object.spec!.nodeName = nodeName;
    return this;
  }
  nodeSelector(selector: Record<string, string>): this {
    this.object.spec!.nodeSelector = selector;
    return this;
  }
  toleration(toleration: Toleration): this {
    this.object.spec!.tolerations = [...(this.object.spec!.tolerations ?? []), toleration];
    return this;
  }
  priority(value: number): this {
    this.object.spec!.priority = value;
    return this;
  }
  owner(kind: string, name: string, uid = `uid-${kind}-${name}`): this {
    const reference: OwnerReference = { apiVersion: 'apps/v1', kind, name, uid, controller: true };
    this.object.metadata!.ownerReferences = [reference];
    return this;
  }
  created(timestamp: string): this {
    (this.object.metadata as { creationTimestamp?: string }).creationTimestamp = timestamp;
    return this;
  }
  /** Sets any part of spec (affinity, topologySpreadConstraints, preemptionPolicy, ...). */
  spec(fields: Partial<NonNullable<Pod['spec']>>): this {
    Object.assign(this.object.spec!, fields);
    return this;
  }
  build(): Pod {
    return structuredClone(this.object);
  }
}

export function node(name: string): NodeBuilder {
  return new NodeBuilder(name);
}

export function pod(name: string, namespace?: string): PodBuilder {
  return new PodBuilder(name, namespace);
}
