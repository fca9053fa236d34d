/**
 * A Service's cluster IPs and node ports, as kube-apiserver's service REST storage handles them
 * before validation (pkg/registry/core/service/storage: normalizeClusterIPs, patchAllocatedValues,
 * the allocators, dropTypeDependentFields), for a single-stack IPv4 cluster.
 *
 * Nothing is kept in memory: what is held is what the other stored Services hold, so a delete or
 * a type change frees its addresses and ports by itself. Two concurrent writes may race for one
 * value; the store then holds two Services with it (upstream's repair loops are not here).
 * Allocation errors are kube's: a 422 with one field cause, before any validation runs.
 */
import { randomInt } from 'node:crypto';
import { apiErrors, findResource, goStrings, isIpAddress, validateServiceClusterIPs, type FieldError, type ResourceType } from '@k8ts/apimachinery';
import type { KubeObject } from './object_store.js';

const SERVICES = findResource('', 'v1', 'services') as ResourceType;

/** kube's --service-cluster-ip-range default; its first and last addresses are never handed out. */
export const SERVICE_CIDR = '10.96.0.0/12';
const SERVICE_IPS = { first: ((10 << 24) | (96 << 16)) + 1, size: (1 << 20) - 2 };
/** kube's --service-node-port-range default. */
export const NODE_PORT_RANGE = { first: 30000, last: 32767 };

/**
 * Where a dynamic pick starts: kube keeps the low band of each range for values users ask for
 * (ServiceIPStaticSubrange, ServiceNodePortStaticSubrange) and takes from it only when the rest is full.
 */
const SERVICE_IP_STATIC_BAND = 256;
const NODE_PORT_STATIC_BAND = 86;

/** What the other stored Services hold. */
export interface HeldAllocations {
  readonly clusterIPs: ReadonlySet<string>;
  readonly nodePorts: ReadonlySet<number>;
}

/** `random(n)`: an integer in [0, n); injectable so tests can pin picks. */
export type RandomInt = (size: number) => number;

interface Port {
  name?: unknown;
  port?: unknown;
  protocol?: unknown;
  nodePort?: unknown;
}

interface Spec {
  type?: unknown;
  clusterIP?: unknown;
  clusterIPs?: unknown;
  ipFamilies?: unknown;
  ipFamilyPolicy?: unknown;
  selector?: unknown;
  ports?: unknown;
  externalTrafficPolicy?: unknown;
  externalIPs?: unknown;
  healthCheckNodePort?: unknown;
  allocateLoadBalancerNodePorts?: unknown;
}

/** The allocations of every stored Service but the one named (the one being updated). */
export function heldAllocations(services: readonly KubeObject[], except?: { namespace?: string | undefined; name: string }): HeldAllocations {
  const clusterIPs = new Set<string>();
  const nodePorts = new Set<number>();
  for (const service of services) {
    const meta = service.metadata ?? {};
    if (except !== undefined && meta.name === except.name && meta.namespace === except.namespace) continue;
    const spec = specOf(service);
    for (const ip of strings(spec.clusterIPs)) if (ip !== 'None') clusterIPs.add(ip);
    if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '' && spec.clusterIP !== 'None') clusterIPs.add(spec.clusterIP);
    for (const port of portsOf(spec)) if (typeof port.nodePort === 'number' && port.nodePort !== 0) nodePorts.add(port.nodePort);
    if (typeof spec.healthCheckNodePort === 'number' && spec.healthCheckNodePort !== 0) nodePorts.add(spec.healthCheckNodePort);
  }
  return { clusterIPs, nodePorts };
}

/** The create path: sync clusterIP/clusterIPs, settle the IP families, then allocate. */
export function allocateServiceCreate(service: KubeObject, held: HeldAllocations, random: RandomInt = randomInt): void {
  const spec = specOf(service);
  service['spec'] = spec;
  const name = service.metadata?.name ?? '';
  normalizeClusterIPs(spec, undefined);
  initIpFamilies(spec, undefined, name);
  allocateClusterIPs(spec, held, name, random);
  const ports = new NodePortOperation(held, name, random);
  if (needsNodePorts(spec)) allocateNodePorts(spec, ports);
  if (needsHealthCheckNodePort(spec)) ports.allocateHealthCheck(spec);
}

/**
 * The update path: values the client left out are kept, a type change allocates what the new type
 * needs, and fields the old type had and the new one cannot carry are dropped when unchanged.
 */
export function allocateServiceUpdate(service: KubeObject, old: KubeObject, held: HeldAllocations, random: RandomInt = randomInt): void {
  const spec = specOf(service);
  service['spec'] = spec;
  const oldSpec = specOf(old);
  const name = service.metadata?.name ?? '';
  patchAllocatedValues(spec, oldSpec);
  normalizeClusterIPs(spec, oldSpec);
  initIpFamilies(spec, oldSpec, name);
  // From ExternalName to a type with a cluster IP: allocate one; otherwise cluster IPs stay (validation refuses changes).
  if (spec.type !== 'ExternalName' && oldSpec.type === 'ExternalName') allocateClusterIPs(spec, held, name, random);
  const ports = new NodePortOperation(held, name, random);
  if (needsNodePorts(spec)) updateNodePorts(spec, oldSpec, ports);
  updateHealthCheckNodePort(spec, oldSpec, ports, name);
  dropTypeDependentFields(spec, oldSpec);
}

function specOf(service: KubeObject): Spec {
  const spec = service['spec'];
  return spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? (spec as Spec) : {};
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function portsOf(spec: Spec): Port[] {
  return Array.isArray(spec.ports) ? spec.ports.filter((port): port is Port => port !== null && typeof port === 'object' && !Array.isArray(port)) : [];
}

function nodePortOf(port: Port): number {
  return typeof port.nodePort === 'number' ? port.nodePort : 0;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function needsClusterIP(spec: Spec): boolean {
  return spec.type !== 'ExternalName';
}

function needsNodePorts(spec: Spec): boolean {
  return spec.type === 'NodePort' || spec.type === 'LoadBalancer';
}

/** A LoadBalancer with allocateLoadBalancerNodePorts false gets only the node ports it asks for. */
function allocatesNodePorts(spec: Spec): boolean {
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

function needsHealthCheckNodePort(spec: Spec): boolean {
  return spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
}

function externallyAccessible(spec: Spec): boolean {
  return spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && strings(spec.externalIPs).length > 0);
}

function invalid(name: string, errors: readonly FieldError[]): Error {
  return apiErrors.invalid(SERVICES, name, errors);
}

/** clusterIP and clusterIPs say one thing: an old client sets only the first, and a patch may change only it. */
function normalizeClusterIPs(spec: Spec, old: Spec | undefined): void {
  const clusterIP = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
  const clusterIPs = strings(spec.clusterIPs);
  if (old === undefined) {
    if (clusterIP !== '' && clusterIPs.length === 0) spec.clusterIPs = [clusterIP];
    return;
  }
  const oldClusterIP = typeof old.clusterIP === 'string' ? old.clusterIP : '';
  if (strings(old.clusterIPs).length > 0 && clusterIPs.length === 0 && oldClusterIP === clusterIP) spec.clusterIPs = old.clusterIPs;
  if (oldClusterIP !== clusterIP) {
    const same = sameJson(spec.clusterIPs, old.clusterIPs);
    if (oldClusterIP !== '' && clusterIP === '' && same) delete spec.clusterIPs;
    if (clusterIP !== '' && same) spec.clusterIPs = [clusterIP];
  }
}

/** Values a PUT left out that the old object holds, kept as they were (kube's patchAllocatedValues). */
function patchAllocatedValues(spec: Spec, old: Spec): void {
  if (needsClusterIP(old) && needsClusterIP(spec)) {
    if (spec.clusterIP === undefined || spec.clusterIP === null || spec.clusterIP === '') {
      if (old.clusterIP !== undefined) spec.clusterIP = old.clusterIP;
    }
    if (strings(spec.clusterIPs).length === 0 && strings(old.clusterIPs).length > 0) spec.clusterIPs = old.clusterIPs;
  }
  if (needsNodePorts(old) && needsNodePorts(spec)) {
    const oldPorts = portsOf(old);
    const used = new Set(portsOf(spec).map(nodePortOf).filter((port) => port !== 0 && oldPorts.some((p) => nodePortOf(p) === port)));
    const byName = new Map(oldPorts.map((port) => [typeof port.name === 'string' ? port.name : '', nodePortOf(port)]));
    for (const port of portsOf(spec)) {
      if (nodePortOf(port) !== 0) continue;
      const kept = byName.get(typeof port.name === 'string' ? port.name : '') ?? 0;
      if (kept !== 0 && !used.has(kept)) port.nodePort = kept;
    }
  }
  if (needsHealthCheckNodePort(old) && needsHealthCheckNodePort(spec) && !spec.healthCheckNodePort) spec.healthCheckNodePort = old.healthCheckNodePort;
}

/**
 * ipFamilyPolicy and ipFamilies on a single-stack IPv4 cluster (kube's initIPFamilyFields): the
 * policy defaults to the old one or SingleStack (a headless Service without selector:
 * RequireDualStack, which headless Services may have anywhere); families follow the IPs given.
 */
function initIpFamilies(spec: Spec, old: Spec | undefined, name: string): void {
  if (spec.type === 'ExternalName') return;
  const headlessWithoutSelector = spec.clusterIP === 'None' && Object.keys(record(spec.selector)).length === 0;
  if (spec.ipFamilyPolicy === undefined || spec.ipFamilyPolicy === null) {
    if (old !== undefined && typeof old.ipFamilyPolicy === 'string') spec.ipFamilyPolicy = old.ipFamilyPolicy;
    else spec.ipFamilyPolicy = headlessWithoutSelector ? 'RequireDualStack' : 'SingleStack';
  }
  const first = validateServiceClusterIPs(spec as Record<string, unknown>);
  if (first.length > 0) throw invalid(name, first);
  const errors: FieldError[] = [];
  const clusterIPs = strings(spec.clusterIPs);
  const families = strings(spec.ipFamilies);
  if (spec.ipFamilyPolicy === 'SingleStack') {
    if (clusterIPs.length === 2)
      errors.push(fieldInvalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"));
    if (families.length === 2)
      errors.push(fieldInvalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
  }
  for (const [index, ip] of clusterIPs.entries()) {
    if (ip === 'None') break;
    if (index < families.length) continue;
    const family = ip.includes(':') ? 'IPv6' : 'IPv4';
    if (family === 'IPv6') errors.push({ ...fieldInvalid(`spec.clusterIPs[${index}]`, clusterIPs, `${family} is not configured on this cluster`), goValue: goStrings(clusterIPs) });
    else families.push(family);
  }
  if (errors.length > 0) throw invalid(name, errors);
  if (headlessWithoutSelector) {
    if (families.length === 0) families.push('IPv4');
    if (families.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
    spec.ipFamilies = families;
    return;
  }
  if (spec.ipFamilyPolicy === 'RequireDualStack')
    errors.push(fieldInvalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
  families.forEach((family, index) => {
    if (family !== 'IPv4') errors.push(fieldInvalid(`spec.ipFamilies[${index}]`, family, 'not configured on this cluster'));
  });
  if (errors.length > 0) throw invalid(name, errors);
  if (families.length === 0) families.push('IPv4');
  spec.ipFamilies = families;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function fieldInvalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, value, detail };
}

/** The IPv4 cluster IP: the one asked for (in range and free), or a free one. Headless Services get none. */
function allocateClusterIPs(spec: Spec, held: HeldAllocations, name: string, random: RandomInt): void {
  if (spec.type === 'ExternalName') return;
  const clusterIPs = strings(spec.clusterIPs);
  if (clusterIPs[0] === 'None') return;
  const requested = clusterIPs[0] ?? '';
  if (requested === '') {
    const offset = pickFree(SERVICE_IPS.size, SERVICE_IP_STATIC_BAND, random, (index) => held.clusterIPs.has(ipv4(SERVICE_IPS.first + index)));
    if (offset === undefined) throw apiErrors.internal('failed to allocate a serviceIP: range is full');
    const ip = ipv4(SERVICE_IPS.first + offset);
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
    return;
  }
  const problem = !inServiceRange(requested)
    ? `the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${SERVICE_CIDR}`
    : held.clusterIPs.has(requested)
      ? 'provided IP is already allocated'
      : undefined;
  if (problem !== undefined) {
    throw invalid(name, [{ ...fieldInvalid('spec.clusterIPs', clusterIPs, `failed to allocate IP ${requested}: ${problem}`), goValue: goStrings(clusterIPs) }]);
  }
  spec.clusterIP = requested;
}

function inServiceRange(ip: string): boolean {
  if (!isIpAddress(ip) || ip.includes(':')) return false;
  const value = ip.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
  return value >= SERVICE_IPS.first && value < SERVICE_IPS.first + SERVICE_IPS.size;
}

function ipv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/**
 * A free index in [0, size): a random walk through the upper band first, then the static band
 * below it, as kube's allocators pick; undefined when all are taken.
 */
function pickFree(size: number, staticBand: number, random: RandomInt, taken: (index: number) => boolean): number | undefined {
  const bands: [number, number][] = [
    [staticBand, size],
    [0, staticBand],
  ];
  for (const [low, high] of bands) {
    const width = high - low;
    if (width <= 0) continue;
    const start = random(width);
    for (let step = 0; step < width; step++) {
      const index = low + ((start + step) % width);
      if (!taken(index)) return index;
    }
  }
  return undefined;
}

/** One request's node port allocations: what others hold plus what this request took so far. */
class NodePortOperation {
  private readonly taken = new Set<number>();

  constructor(
    private readonly held: HeldAllocations,
    private readonly name: string,
    private readonly random: RandomInt,
  ) {}

  /** The port asked for, or the allocator's error message. */
  allocate(port: number): string | undefined {
    if (port < NODE_PORT_RANGE.first || port > NODE_PORT_RANGE.last)
      return `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}`;
    if (this.held.nodePorts.has(port) || this.taken.has(port)) return 'provided port is already allocated';
    this.taken.add(port);
    return undefined;
  }

  allocateAt(index: number, port: number): void {
    const problem = this.allocate(port);
    if (problem !== undefined) throw invalid(this.name, [fieldInvalid(`spec.ports[${index}].nodePort`, port, problem)]);
  }

  next(): number {
    const size = NODE_PORT_RANGE.last - NODE_PORT_RANGE.first + 1;
    const offset = pickFree(size, NODE_PORT_STATIC_BAND, this.random, (index) => {
      const port = NODE_PORT_RANGE.first + index;
      return this.held.nodePorts.has(port) || this.taken.has(port);
    });
    if (offset === undefined) throw apiErrors.internal('failed to allocate a nodePort: range is full');
    const port = NODE_PORT_RANGE.first + offset;
    this.taken.add(port);
    return port;
  }

  allocateHealthCheck(spec: Spec): void {
    const requested = typeof spec.healthCheckNodePort === 'number' ? spec.healthCheckNodePort : 0;
    if (requested === 0) {
      spec.healthCheckNodePort = this.next();
      return;
    }
    const problem = this.allocate(requested);
    if (problem !== undefined) throw apiErrors.internal(`failed to allocate requested HealthCheck NodePort ${requested}: ${problem}`);
  }
}

/** Create: ports with the same port number share one node port (TCP and UDP 53, say), as kube's initNodePorts. */
function allocateNodePorts(spec: Spec, operation: NodePortOperation): void {
  const ports = portsOf(spec);
  const byServicePort = new Map<unknown, number>();
  ports.forEach((port, index) => {
    const requested = nodePortOf(port);
    if (requested === 0 && !allocatesNodePorts(spec)) return;
    const shared = byServicePort.get(port.port) ?? 0;
    if (shared === 0) {
      const asked = requested !== 0 ? requested : (ports.slice(index).find((other) => other.port === port.port && nodePortOf(other) !== 0)?.nodePort as number | undefined) ?? 0;
      if (asked !== 0) operation.allocateAt(index, asked);
      const nodePort = asked !== 0 ? asked : operation.next();
      port.nodePort = nodePort;
      byServicePort.set(port.port, nodePort);
    } else if (requested !== shared) {
      if (requested === 0) port.nodePort = shared;
      else operation.allocateAt(index, requested);
    }
  });
}

/** Update: node ports the old object held stay this Service's; new ones are allocated. */
function updateNodePorts(spec: Spec, old: Spec, operation: NodePortOperation): void {
  const oldNodePorts = new Set(portsOf(old).map(nodePortOf).filter((port) => port !== 0));
  const claimed = new Set<number>();
  portsOf(spec).forEach((port, index) => {
    const requested = nodePortOf(port);
    if (requested === 0 && !allocatesNodePorts(spec)) return;
    if (requested === 0) {
      port.nodePort = operation.next();
      return;
    }
    if (!oldNodePorts.has(requested) && !claimed.has(requested)) {
      operation.allocateAt(index, requested);
      claimed.add(requested);
    }
  });
}

function updateHealthCheckNodePort(spec: Spec, old: Spec, operation: NodePortOperation, name: string): void {
  const needed = needsHealthCheckNodePort(old);
  const needs = needsHealthCheckNodePort(spec);
  if (!needed && needs) operation.allocateHealthCheck(spec);
  if (needed && needs && (spec.healthCheckNodePort ?? 0) !== (old.healthCheckNodePort ?? 0)) {
    throw invalid(name, [
      fieldInvalid('spec.healthCheckNodePort', spec.healthCheckNodePort, 'cannot change healthCheckNodePort on loadBalancer service with externalTraffic=Local during update'),
    ]);
  }
}

/**
 * A type change drops what the new type cannot carry, when the client left it as it was (a
 * changed value stays, for validation to refuse): cluster IPs and families going to ExternalName,
 * node ports going to ClusterIP or ExternalName, and the like.
 */
function dropTypeDependentFields(spec: Spec, old: Spec): void {
  if (needsClusterIP(old) && !needsClusterIP(spec)) {
    if (sameJson(spec.clusterIPs, old.clusterIPs) && sameJson(spec.clusterIP, old.clusterIP)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameJson(spec.ipFamilies, old.ipFamilies)) delete spec.ipFamilies;
    if (sameJson(spec.ipFamilyPolicy, old.ipFamilyPolicy)) delete spec.ipFamilyPolicy;
  }
  if (needsNodePorts(old) && !needsNodePorts(spec)) {
    const ports = portsOf(spec);
    const oldPorts = portsOf(old);
    const same = ports.length === oldPorts.length && ports.every((port, index) => nodePortOf(port) === nodePortOf(oldPorts[index] as Port));
    if (same) for (const port of ports) delete port.nodePort;
  }
  if (needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(spec) && spec.healthCheckNodePort === old.healthCheckNodePort) delete spec.healthCheckNodePort;
  if (old.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (typeof spec.allocateLoadBalancerNodePorts === 'boolean' && spec.allocateLoadBalancerNodePorts === old.allocateLoadBalancerNodePorts)
      delete spec.allocateLoadBalancerNodePorts;
  }
  if (externallyAccessible(old) && !externallyAccessible(spec) && spec.externalTrafficPolicy === old.externalTrafficPolicy) delete spec.externalTrafficPolicy;
}
