import { createHash } from 'node:crypto';
import type { Container, EnvVar, Pod } from 'kubernetes-types/core/v1.js';
import { integerValue, milliValue, parseQuantity } from '@k8ts/apimachinery';
import type { ContainerConfig, ContainerResources } from '../runtime/runtime.js';
import type { VolumeMounts } from '../volumes/volume_mounts.js';
import { containerResourceValue, podFieldValue, type Allocatable, type PodNetworkFacts } from './downward_api.js';
import { expand, lookupIn } from './expansion.js';
import type { ObjectLookup } from './object_lookup.js';
import { serviceEnvironment, visibleServices } from './service_env.js';

/**
 * A container's runtime config from its spec, as the kubelet's GenerateRunContainerOptions and
 * generateContainerConfig build it: the environment (envFrom, env with `$(VAR)` references to earlier
 * entries, the downward API, ConfigMap and Secret keys, the Service variables), command and args
 * expanded against it, resources, mounts, and the labels/annotations the kubelet puts on containers.
 */

/** Why a container could not be configured: the pod worker shows it as the container's waiting state. */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

export interface ContainerConfigInput {
  readonly pod: Pod;
  readonly container: Container;
  readonly restartCount: number;
  /** The pod's IPs, primary first. */
  readonly podIPs: readonly string[];
  readonly hostIP: string;
  /** All the node's IPs (status.hostIPs), primary first; defaults to [hostIP]. */
  readonly hostIPs?: readonly string[];
  readonly nodeName: string;
  readonly logPath: string;
  readonly mounts: VolumeMounts;
  readonly lookup: ObjectLookup;
  /** Node.status.allocatable: what resourceFieldRef reads for a limit the container does not set. */
  readonly nodeAllocatable?: Allocatable;
  /** Told of what upstream records as a Warning event on the pod (e.g. InvalidEnvironmentVariableNames). */
  readonly warn?: (reason: string, message: string) => void;
}

export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
export const ANNOTATION_CONTAINER_HASH = 'io.kubernetes.container.hash';
export const ANNOTATION_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const ANNOTATION_TERMINATION_MESSAGE_PATH = 'io.kubernetes.container.terminationMessagePath';
export const ANNOTATION_TERMINATION_MESSAGE_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
export const ANNOTATION_TERMINATION_GRACE_PERIOD = 'io.kubernetes.pod.terminationGracePeriod';
export const ANNOTATION_DELETION_GRACE_PERIOD = 'io.kubernetes.pod.deletionGracePeriod';
export const ANNOTATION_PRESTOP_HANDLER = 'io.kubernetes.container.preStopHandler';
export const ANNOTATION_CONTAINER_PORTS = 'io.kubernetes.container.ports';

export async function makeContainerConfig(input: ContainerConfigInput): Promise<ContainerConfig> {
  try {
    return await buildContainerConfig(input);
  } catch (error) {
    // Whatever stops the config (a lookup failing too) is the container's CreateContainerConfigError.
    if (error instanceof ContainerConfigError) throw error;
    throw new ContainerConfigError(error instanceof Error ? error.message : String(error));
  }
}

async function buildContainerConfig(input: ContainerConfigInput): Promise<ContainerConfig> {
  const { pod, container } = input;
  const env = await makeEnvironment(input);
  const envMap = new Map(env.map(({ name, value }) => [name, value]));
  const lookup = lookupIn(envMap);
  return {
    name: container.name,
    image: container.image ?? '',
    attempt: input.restartCount,
    command: (container.command ?? []).map((word) => expand(word, lookup)),
    args: (container.args ?? []).map((word) => expand(word, lookup)),
    ...(container.workingDir ? { workingDir: container.workingDir } : {}),
    env,
    mounts: input.mounts[container.name] ?? [],
    logPath: input.logPath,
    resources: containerResources(container),
    stdin: container.stdin ?? false,
    stdinOnce: container.stdinOnce ?? false,
    tty: container.tty ?? false,
    labels: {
      [LABEL_POD_NAME]: pod.metadata?.name ?? '',
      [LABEL_POD_NAMESPACE]: pod.metadata?.namespace ?? '',
      [LABEL_POD_UID]: pod.metadata?.uid ?? '',
      [LABEL_CONTAINER_NAME]: container.name,
    },
    annotations: containerAnnotations(pod, container, input.restartCount),
  };
}

/** A stable hash of the container's spec: a changed spec means the container must be re-created. */
export function hashContainer(container: Container): string {
  return createHash('sha256').update(JSON.stringify(container)).digest('hex').slice(0, 16);
}

/** requests and limits in millicores and bytes; an absent request is the limit, as the API defaults it. */
export function containerResources(container: Container): ContainerResources {
  const requests = container.resources?.requests ?? {};
  const limits = container.resources?.limits ?? {};
  const cpuRequest = requests['cpu'] ?? limits['cpu'];
  const memoryRequest = requests['memory'] ?? limits['memory'];
  return {
    ...(cpuRequest !== undefined ? { cpuRequestMillis: milliValue(parseQuantity(cpuRequest)) } : {}),
    ...(limits['cpu'] !== undefined ? { cpuLimitMillis: milliValue(parseQuantity(limits['cpu'])) } : {}),
    ...(memoryRequest !== undefined ? { memoryRequestBytes: integerValue(parseQuantity(memoryRequest)) } : {}),
    ...(limits['memory'] !== undefined ? { memoryLimitBytes: integerValue(parseQuantity(limits['memory'])) } : {}),
  };
}

function containerAnnotations(pod: Pod, container: Container, restartCount: number): Record<string, string> {
  const annotations: Record<string, string> = {
    [ANNOTATION_CONTAINER_HASH]: hashContainer(container),
    [ANNOTATION_RESTART_COUNT]: String(restartCount),
    [ANNOTATION_TERMINATION_MESSAGE_PATH]: container.terminationMessagePath ?? '/dev/termination-log',
    [ANNOTATION_TERMINATION_MESSAGE_POLICY]: container.terminationMessagePolicy ?? 'File',
  };
  if (pod.metadata?.deletionGracePeriodSeconds !== undefined) {
    annotations[ANNOTATION_DELETION_GRACE_PERIOD] = String(pod.metadata.deletionGracePeriodSeconds);
  }
  if (pod.spec?.terminationGracePeriodSeconds !== undefined) {
    annotations[ANNOTATION_TERMINATION_GRACE_PERIOD] = String(pod.spec.terminationGracePeriodSeconds);
  }
  if (container.lifecycle?.preStop !== undefined) annotations[ANNOTATION_PRESTOP_HANDLER] = JSON.stringify(container.lifecycle.preStop);
  if (container.ports !== undefined && container.ports.length > 0) annotations[ANNOTATION_CONTAINER_PORTS] = JSON.stringify(container.ports);
  return annotations;
}

/**
 * The container's environment, as upstream's makeEnvironmentVariables: envFrom sources in order, then
 * env entries in order (a value may reference any variable defined before it and the Service
 * variables), then the Service variables not already defined. A name defined twice keeps its first
 * position and its last value.
 */
export async function makeEnvironment(input: ContainerConfigInput): Promise<{ name: string; value: string }[]> {
  const { pod, container, lookup } = input;
  const namespace = pod.metadata?.namespace ?? 'default';
  const objects = new ObjectCache(input.lookup, namespace);

  const [namespaceServices, defaultServices] = await Promise.all([lookup.services(namespace), lookup.services('default')]);
  const services = visibleServices(namespace, pod.spec?.enableServiceLinks !== false, namespaceServices, defaultServices);
  const serviceEnv = new Map(serviceEnvironment(services).map(({ name, value }) => [name, value]));

  const env = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    const [kind, ref] = source.configMapRef ? (['configMap', source.configMapRef] as const) : (['secret', source.secretRef] as const);
    if (ref === undefined) continue;
    const data = kind === 'configMap' ? await objects.configMapData(ref.name ?? '', ref.optional === true) : await objects.secretData(ref.name ?? '', ref.optional === true);
    if (data === undefined) continue;
    const invalid: string[] = [];
    for (const [key, value] of Object.entries(data)) {
      const name = prefix + key;
      if (!isEnvVarName(name)) invalid.push(name);
      else env.set(name, value);
    }
    if (invalid.length > 0) {
      input.warn?.(
        'InvalidEnvironmentVariableNames',
        `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${kind === 'configMap' ? 'configMap' : 'secret'} ${namespace}/${ref.name ?? ''} were skipped since they are considered invalid environment variable names.`,
      );
    }
  }

  const network: PodNetworkFacts = { podIPs: input.podIPs, hostIPs: input.hostIPs ?? (input.hostIP ? [input.hostIP] : []) };
  for (const variable of container.env ?? []) {
    const value = await envVarValue(variable, input, objects, network, lookupIn(env, serviceEnv));
    if (value !== undefined) env.set(variable.name, value);
  }

  for (const [name, value] of serviceEnv) if (!env.has(name)) env.set(name, value);
  return [...env].map(([name, value]) => ({ name, value }));
}

async function envVarValue(
  variable: EnvVar,
  input: ContainerConfigInput,
  objects: ObjectCache,
  network: PodNetworkFacts,
  defined: (name: string) => string | undefined,
): Promise<string | undefined> {
  const source = variable.valueFrom;
  if (source === undefined) return expand(variable.value ?? '', defined);
  if (source.fieldRef !== undefined) return configValue(() => podFieldValue(source.fieldRef!, input.pod, network));
  if (source.resourceFieldRef !== undefined) {
    const selector = source.resourceFieldRef;
    const target = selector.containerName ? findContainer(input.pod, selector.containerName) : input.container;
    return configValue(() => containerResourceValue(selector, target, input.nodeAllocatable ?? {}));
  }
  if (source.configMapKeyRef !== undefined) {
    const { name = '', key, optional } = source.configMapKeyRef;
    const data = await objects.configMapData(name, optional === true);
    if (data === undefined) return undefined;
    const value = data[key];
    if (value !== undefined) return value;
    if (optional === true) return undefined;
    throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${objects.namespace}/${name}`);
  }
  if (source.secretKeyRef !== undefined) {
    const { name = '', key, optional } = source.secretKeyRef;
    const data = await objects.secretData(name, optional === true);
    if (data === undefined) return undefined;
    const value = data[key];
    if (value !== undefined) return value;
    if (optional === true) return undefined;
    throw new ContainerConfigError(`couldn't find key ${key} in Secret ${objects.namespace}/${name}`);
  }
  return variable.value ?? '';
}

function configValue(compute: () => string): string {
  try {
    return compute();
  } catch (error) {
    throw new ContainerConfigError(error instanceof Error ? error.message : String(error));
  }
}

function findContainer(pod: Pod, name: string): Container {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const found = all.find((container) => container.name === name);
  if (found === undefined) throw new ContainerConfigError(`container ${name} not found`);
  return found;
}

/** Upstream's (strict) IsEnvVarName: `[-._a-zA-Z][-._a-zA-Z0-9]*`, and not ".", ".." or "..*". */
export function isEnvVarName(name: string): boolean {
  return /^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name) && !name.startsWith('..') && name !== '.';
}

/** Each ConfigMap and Secret read once per container, decoded; not-found errors as upstream's managers word them. */
class ObjectCache {
  private readonly configMaps = new Map<string, Record<string, string> | undefined>();
  private readonly secrets = new Map<string, Record<string, string> | undefined>();

  constructor(
    private readonly lookup: ObjectLookup,
    readonly namespace: string,
  ) {}

  /** The ConfigMap's data, or undefined when it is missing and optional. */
  async configMapData(name: string, optional: boolean): Promise<Record<string, string> | undefined> {
    if (!this.configMaps.has(name)) {
      const configMap = await this.lookup.configMap(this.namespace, name);
      this.configMaps.set(name, configMap === undefined ? undefined : { ...configMap.data });
    }
    const data = this.configMaps.get(name);
    if (data === undefined && !optional) throw new ContainerConfigError(`configmap "${name}" not found`);
    return data;
  }

  async secretData(name: string, optional: boolean): Promise<Record<string, string> | undefined> {
    if (!this.secrets.has(name)) {
      const secret = await this.lookup.secret(this.namespace, name);
      const data = secret === undefined ? undefined : Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
      this.secrets.set(name, data);
    }
    const data = this.secrets.get(name);
    if (data === undefined && !optional) throw new ContainerConfigError(`secret "${name}" not found`);
    return data;
  }
}
