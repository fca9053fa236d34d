/**
 * Defaulting as kube-apiserver applies it to v1 objects before validating and storing them
 * (pkg/apis/core/v1/defaults.go, apps/v1, discovery/v1, scheduling/v1), plus the few create-time
 * fields the registry strategies set (a Namespace's finalizer and phase). Mutates in place;
 * applying it twice changes nothing.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type {
  Container,
  Endpoints,
  Namespace,
  Node,
  Pod,
  PodSpec,
  PodTemplateSpec,
  Probe,
  Secret,
  Service,
  Volume,
} from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { ResourceType } from './resources.js';

/** 0644, the mode projected files get unless set. */
const DEFAULT_FILE_MODE = 0o644;
const CLIENT_IP_AFFINITY_SECONDS = 10800;

/**
 * `operation` says whether the object is being created: create-only defaults (a Namespace's
 * "kubernetes" finalizer and Active phase) must not come back on updates, where they may have been
 * removed on purpose.
 */
// `any`: the body is untyped JSON from the wire; each kind's function narrows it to its kubernetes-types type.
export function applyDefaults(type: Pick<ResourceType, 'group' | 'resource'>, object: any, operation: 'create' | 'update' = 'create'): void {
  if (object === null || typeof object !== 'object') return;
  switch (`${type.group}/${type.resource}`) {
    case '/pods':
      return defaultPod(object as Pod);
    case '/services':
      return defaultService(object as Service);
    case '/secrets':
      return defaultSecret(object as Secret);
    case '/namespaces':
      return defaultNamespace(object as Namespace, operation);
    case '/nodes':
      return defaultNode(object as Node);
    case '/endpoints':
      return defaultEndpoints(object as Endpoints);
    case 'apps/deployments':
      return defaultDeployment(object as Deployment);
    case 'apps/replicasets':
      return defaultReplicaSet(object as ReplicaSet);
    case 'discovery.k8s.io/endpointslices':
      return defaultEndpointSlice(object as EndpointSlice);
    case 'scheduling.k8s.io/priorityclasses':
      return defaultPriorityClass(object as PriorityClass);
    default:
      return; // ConfigMaps, ServiceAccounts, Events and Leases have no v1 defaults.
  }
}

function defaultPod(pod: Pod): void {
  const spec = (pod.spec ??= { containers: [] });
  // Pod-only defaults: templates keep these unset, so `kubectl get deploy -o yaml` shows none.
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) defaultRequestsToLimits(container);
  spec.enableServiceLinks ??= true;
  if (spec.hostNetwork === true) defaultHostNetworkPorts(spec);
  defaultPodSpec(spec);
}

/** Limits without requests mean requests equal to limits. */
function defaultRequestsToLimits(container: Container): void {
  const limits = container.resources?.limits;
  if (limits === undefined || container.resources === undefined) return;
  const requests = (container.resources.requests ??= {});
  for (const [name, quantity] of Object.entries(limits)) requests[name] ??= quantity;
}

/** With the host's network, a container port is also a host port. */
function defaultHostNetworkPorts(spec: PodSpec): void {
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])])
    for (const port of container.ports ?? []) if (port.hostPort === undefined || port.hostPort === 0) port.hostPort = port.containerPort;
}

function defaultPodTemplate(template: PodTemplateSpec | undefined): void {
  if (template?.spec !== undefined) defaultPodSpec(template.spec);
}

function defaultPodSpec(spec: PodSpec): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler';
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) defaultContainer(container);
  for (const volume of spec.volumes ?? []) defaultVolume(volume);
}

function defaultContainer(container: Container): void {
  if (!container.imagePullPolicy) container.imagePullPolicy = pullPolicyFor(container.image ?? '');
  if (!container.terminationMessagePath) container.terminationMessagePath = '/dev/termination-log';
  if (!container.terminationMessagePolicy) container.terminationMessagePolicy = 'File';
  for (const port of container.ports ?? []) if (!port.protocol) port.protocol = 'TCP';
  // `!= null`: a JSON null decodes to Go's nil upstream, so it is skipped as an absent field is.
  for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) if (probe != null) defaultProbe(probe);
  for (const handler of [container.lifecycle?.postStart, container.lifecycle?.preStop])
    if (handler?.httpGet != null) defaultHttpGet(handler.httpGet);
  for (const variable of container.env ?? []) {
    const fieldRef = variable.valueFrom?.fieldRef;
    if (fieldRef !== undefined && !fieldRef.apiVersion) fieldRef.apiVersion = 'v1';
  }
}

/**
 * Always for ":latest" or no tag at all (unless pinned by digest), else IfNotPresent, as upstream
 * decides from the parsed image reference.
 */
export function pullPolicyFor(image: string): 'Always' | 'IfNotPresent' {
  const [reference = '', digest] = image.split('@');
  const lastComponent = reference.slice(reference.lastIndexOf('/') + 1);
  const colon = lastComponent.lastIndexOf(':');
  const tag = colon === -1 ? '' : lastComponent.slice(colon + 1);
  if (tag === 'latest') return 'Always';
  return tag === '' && digest === undefined ? 'Always' : 'IfNotPresent';
}

/** Upstream's SetDefaults_Probe: zero (or absent) takes the default. */
function defaultProbe(probe: Probe): void {
  probe.timeoutSeconds ||= 1;
  probe.periodSeconds ||= 10;
  probe.successThreshold ||= 1;
  probe.failureThreshold ||= 3;
  if (probe.httpGet != null) defaultHttpGet(probe.httpGet);
}

function defaultHttpGet(action: { path?: string; scheme?: string }): void {
  if (!action.path) action.path = '/';
  if (!action.scheme) action.scheme = 'HTTP';
}

function defaultVolume(volume: Volume): void {
  const sources = Object.keys(volume).filter((key) => key !== 'name');
  if (sources.length === 0) volume.emptyDir = {};
  if (volume.secret !== undefined) volume.secret.defaultMode ??= DEFAULT_FILE_MODE;
  if (volume.configMap !== undefined) volume.configMap.defaultMode ??= DEFAULT_FILE_MODE;
  if (volume.downwardAPI !== undefined) volume.downwardAPI.defaultMode ??= DEFAULT_FILE_MODE;
  if (volume.projected !== undefined) volume.projected.defaultMode ??= DEFAULT_FILE_MODE;
  if (volume.hostPath !== undefined) volume.hostPath.type ??= '';
}

function defaultService(service: Service): void {
  const spec = (service.spec ??= {});
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? undefined) === undefined)
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: CLIENT_IP_AFFINITY_SECONDS } };
  if (!spec.type) spec.type = 'ClusterIP';
  for (const port of spec.ports ?? []) {
    if (!port.protocol) port.protocol = 'TCP';
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
  const externallyAccessible =
    spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && (spec.externalIPs ?? []).length > 0);
  if (externallyAccessible && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if ((spec.internalTrafficPolicy ?? undefined) === undefined && ['ClusterIP', 'NodePort', 'LoadBalancer'].includes(spec.type))
    spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
}

function defaultSecret(secret: Secret): void {
  if (!secret.type) secret.type = 'Opaque';
}

function defaultNamespace(namespace: Namespace, operation: 'create' | 'update'): void {
  const name = namespace.metadata?.name;
  // Every namespace carries its name as a label, so selectors can pick namespaces by name.
  if (name !== undefined && name !== '') (namespace.metadata ??= {}).labels = { ...namespace.metadata?.labels, 'kubernetes.io/metadata.name': name };
  if (operation === 'create') {
    const finalizers = (namespace.spec ??= {}).finalizers ?? [];
    namespace.spec.finalizers = finalizers.includes('kubernetes') ? finalizers : [...finalizers, 'kubernetes'];
    namespace.status = { ...namespace.status, phase: 'Active' };
  } else if (namespace.status !== undefined && !namespace.status.phase) {
    namespace.status.phase = 'Active';
  }
}

function defaultNode(node: Node): void {
  const status = node.status;
  if (status?.capacity !== undefined && status.allocatable === undefined) status.allocatable = { ...status.capacity };
}

function defaultEndpoints(endpoints: Endpoints): void {
  for (const subset of endpoints.subsets ?? []) for (const port of subset.ports ?? []) if (!port.protocol) port.protocol = 'TCP';
}

function defaultEndpointSlice(slice: EndpointSlice): void {
  for (const port of slice.ports ?? []) {
    port.name ??= '';
    port.protocol ??= 'TCP';
  }
}

function defaultPriorityClass(priorityClass: PriorityClass): void {
  priorityClass.preemptionPolicy ??= 'PreemptLowerPriority';
}

function defaultDeployment(deployment: Deployment): void {
  const spec = deployment.spec;
  if (spec === undefined) return;
  spec.replicas ??= 1;
  const strategy = (spec.strategy ??= {});
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate = (strategy.rollingUpdate ??= {});
    rollingUpdate.maxUnavailable ??= '25%';
    rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultPodTemplate(spec.template);
}

function defaultReplicaSet(replicaSet: ReplicaSet): void {
  const spec = replicaSet.spec;
  if (spec === undefined) return;
  spec.replicas ??= 1;
  defaultPodTemplate(spec.template);
}
