import { apiErrors, findResource, TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE, type ResourceType } from '@k8ts/apimachinery';
import type { KubeObject, ObjectStore } from './object_store.js';
import { allocateServiceCreate, allocateServiceUpdate, heldAllocations } from './service_allocation.js';

const PODS = findResource('', 'v1', 'pods') as ResourceType;
const PRIORITY_CLASSES = findResource('scheduling.k8s.io', 'v1', 'priorityclasses') as ResourceType;
const SERVICES = findResource('', 'v1', 'services') as ResourceType;

export function isPods(type: ResourceType): boolean {
  return type.group === PODS.group && type.resource === PODS.resource;
}

export function isPriorityClasses(type: ResourceType): boolean {
  return type.group === PRIORITY_CLASSES.group && type.resource === PRIORITY_CLASSES.resource;
}

/** Where the Priority plugin reads PriorityClasses (kube's informer lister): one by name, or all. */
export interface PriorityClassLister {
  get(name: string): Promise<KubeObject | undefined>;
  list(): Promise<readonly KubeObject[]>;
}

interface PriorityClassFields {
  value?: unknown;
  globalDefault?: unknown;
  preemptionPolicy?: unknown;
}

interface PodPriorityFields {
  priorityClassName?: unknown;
  priority?: unknown;
  preemptionPolicy?: unknown;
}

/** The priority a pod gets when neither it nor a global default class names one (and its policy). */
const DEFAULT_PRIORITY = 0;
const DEFAULT_PREEMPTION_POLICY = 'PreemptLowerPriority';

/**
 * The global default class: the one with `globalDefault` set, or (should a race have let two in)
 * the lowest-valued of them, as upstream picks.
 */
export function globalDefaultClass(classes: readonly KubeObject[]): KubeObject | undefined {
  let found: KubeObject | undefined;
  for (const candidate of classes) {
    if ((candidate as PriorityClassFields).globalDefault !== true) continue;
    if (found === undefined || classValue(candidate) < classValue(found)) found = candidate;
  }
  return found;
}

function classValue(priorityClass: KubeObject): number {
  const value = (priorityClass as PriorityClassFields).value;
  return typeof value === 'number' ? value : 0;
}

function podSpec(pod: KubeObject): PodPriorityFields | undefined {
  const spec = pod['spec'];
  return spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? (spec as PodPriorityFields) : undefined;
}

/**
 * The Priority admission plugin on a pod create, a mutating step that runs before validation:
 * spec.priorityClassName resolves to spec.priority and spec.preemptionPolicy; a pod naming no class
 * gets the global default class (named in its spec) or priority 0. An unknown class, or a priority
 * or policy the pod set itself that differs from the class's, is 403 Forbidden. `name` is the
 * pod's name as admission sees it: its generateName when the server is to pick the name.
 */
export async function admitPodPriority(pod: KubeObject, name: string, classes: PriorityClassLister): Promise<void> {
  const spec = podSpec(pod);
  if (spec === undefined) return; // validation answers for a pod without a spec
  const className = typeof spec.priorityClassName === 'string' ? spec.priorityClassName : '';
  let priority = DEFAULT_PRIORITY;
  let policy: unknown = DEFAULT_PREEMPTION_POLICY;
  if (className === '') {
    const fallback = globalDefaultClass(await classes.list());
    if (fallback !== undefined) {
      spec.priorityClassName = fallback.metadata?.name;
      priority = classValue(fallback);
      policy = (fallback as PriorityClassFields).preemptionPolicy;
    }
  } else {
    const found = await classes.get(className);
    if (found === undefined) throw apiErrors.forbidden(PODS, name, `no PriorityClass with name ${className} was found`);
    priority = classValue(found);
    policy = (found as PriorityClassFields).preemptionPolicy;
  }
  if (typeof spec.priority === 'number' && spec.priority !== priority) {
    throw apiErrors.forbidden(
      PODS,
      name,
      `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
    );
  }
  spec.priority = priority;
  // A class stored without a policy (before defaulting gave every class one) leaves the pod's alone.
  if (typeof policy !== 'string') return;
  if (typeof spec.preemptionPolicy === 'string' && spec.preemptionPolicy !== policy) {
    throw apiErrors.forbidden(
      PODS,
      name,
      `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`,
    );
  }
  spec.preemptionPolicy = policy;
}

/**
 * The Priority plugin on a pod update: an update that leaves out the priority and policy the create
 * resolved keeps them (validation then refuses any other change to them, as to the rest of the spec).
 */
export function keepPodPriority(pod: KubeObject, old: KubeObject): void {
  const spec = podSpec(pod);
  const oldSpec = podSpec(old);
  if (spec === undefined || oldSpec === undefined) return;
  if ((spec.priority === undefined || spec.priority === null) && oldSpec.priority !== undefined && oldSpec.priority !== null) {
    spec.priority = oldSpec.priority;
  }
  if ((spec.preemptionPolicy === undefined || spec.preemptionPolicy === null) && oldSpec.preemptionPolicy !== undefined && oldSpec.preemptionPolicy !== null) {
    spec.preemptionPolicy = oldSpec.preemptionPolicy;
  }
}

/**
 * The Priority plugin's check of a PriorityClass create or update, after validation: there may be
 * only one global default class. Making the default class itself the default again is fine.
 */
export function admitPriorityClass(priorityClass: KubeObject, name: string, operation: 'create' | 'update', classes: readonly KubeObject[]): void {
  if ((priorityClass as PriorityClassFields).globalDefault !== true) return;
  const current = globalDefaultClass(classes);
  if (current === undefined) return;
  const currentName = current.metadata?.name ?? '';
  if (operation === 'create' || currentName !== priorityClass.metadata?.name) {
    throw apiErrors.forbidden(PRIORITY_CLASSES, name, `PriorityClass ${currentName} is already marked as default. Only one default can exist`);
  }
}

/**
 * How long DefaultTolerationSeconds lets a pod stay on a not-ready or an unreachable node:
 * kube-apiserver's --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds.
 */
export interface DefaultTolerationSeconds {
  readonly notReadySeconds: number;
  readonly unreachableSeconds: number;
}

/** Upstream's defaults: 300 s for each. */
export const DEFAULT_TOLERATION_SECONDS: DefaultTolerationSeconds = { notReadySeconds: 300, unreachableSeconds: 300 };

interface TolerationFields {
  key?: unknown;
  effect?: unknown;
}

/**
 * The DefaultTolerationSeconds admission plugin on a pod create or update (not its subresources),
 * mutating, after Priority: a pod that does not already tolerate the not-ready or the unreachable
 * NoExecute taint gets `{key, operator: Exists, effect: NoExecute, tolerationSeconds}` for it (300 s
 * unless configured), so the taint eviction controller evicts it that long after its node fails. As
 * upstream, a toleration counts when its key is the taint's or empty and its effect is NoExecute or
 * empty (its operator and its own tolerationSeconds are not looked at).
 */
export function admitDefaultTolerationSeconds(pod: KubeObject, seconds: DefaultTolerationSeconds = DEFAULT_TOLERATION_SECONDS): void {
  const spec = pod['spec'];
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return; // validation answers
  const fields = spec as { tolerations?: unknown };
  if (fields.tolerations !== undefined && fields.tolerations !== null && !Array.isArray(fields.tolerations)) return;
  const tolerations = (fields.tolerations ?? []) as TolerationFields[];
  const tolerates = (key: string): boolean =>
    tolerations.some((toleration) => {
      if (toleration === null || typeof toleration !== 'object') return false;
      const tolerationKey = toleration.key ?? '';
      const effect = toleration.effect ?? '';
      return (tolerationKey === key || tolerationKey === '') && (effect === 'NoExecute' || effect === '');
    });
  const defaults = [
    { key: TAINT_NODE_NOT_READY, tolerationSeconds: seconds.notReadySeconds },
    { key: TAINT_NODE_UNREACHABLE, tolerationSeconds: seconds.unreachableSeconds },
  ];
  const added = defaults
    .filter(({ key }) => !tolerates(key))
    .map(({ key, tolerationSeconds }) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds }));
  if (added.length > 0) fields.tolerations = [...tolerations, ...added];
}

/**
 * What kube-apiserver's create path adds to a new Pod after validation: its Pending status and QoS
 * class. (A Service's cluster IP and node ports are allocated before validation: admitServiceCreate.)
 */
export function admitCreate(type: ResourceType, object: KubeObject): void {
  if (type.group === '' && type.resource === 'pods') {
    const status = (object['status'] ?? {}) as Record<string, unknown>;
    object['status'] = { phase: 'Pending', qosClass: qosClass(object), ...status };
  }
}

export function isServices(type: ResourceType): boolean {
  return type.group === SERVICES.group && type.resource === SERVICES.resource;
}

/**
 * A new Service's cluster IP and node ports, allocated against every stored Service before
 * validation, as kube's service storage does in its BeginCreate (422 for a value out of range or
 * already allocated).
 */
export async function admitServiceCreate(service: KubeObject, store: ObjectStore): Promise<void> {
  const { items } = await store.list(SERVICES, undefined);
  allocateServiceCreate(service, heldAllocations(items));
}

/**
 * An updated Service: values the client left out are kept, a type change allocates what the new
 * type needs and drops what it cannot carry; `services` are all the stored Services.
 */
export function admitServiceUpdate(service: KubeObject, old: KubeObject, services: readonly KubeObject[]): void {
  allocateServiceUpdate(service, old, heldAllocations(services, { namespace: old.metadata?.namespace, name: old.metadata?.name ?? '' }));
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
