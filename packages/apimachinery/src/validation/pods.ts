/**
 * Pods and pod specs (pkg/apis/core/validation): the checks kubectl users meet most, with
 * upstream's paths and messages. Expects a defaulted object, as kube-apiserver validates after
 * defaulting (so imagePullPolicy, protocols and policies are present).
 */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';
import { compareQuantities, QUANTITY_FORMAT_MESSAGE, tryParseQuantity } from '../quantity.js';
import { deepEqual, IS_NEGATIVE, invalidEach, list, record, text } from './common.js';
import { validateAnnotations, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import {
  inclusiveRangeError,
  isDns1123Label,
  isQualifiedName,
  isValidPortName,
  isValidPortNumber,
  nameIsDnsSubdomain,
} from './names.js';
import { forbidProbesAndLifecycle, isSet, validateProbesAndLifecycle } from './probes.js';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];
const MAX_INT32 = 2147483647;

const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

export function validatePod(pod: unknown): FieldError[] {
  const fields = record(pod);
  const errors = validateObjectMeta(fields['metadata'], true, nameIsDnsSubdomain);
  errors.push(...validatePodSpec(fields['spec'], 'spec'));
  if (list(record(fields['spec'])['ephemeralContainers']).length > 0)
    errors.push(fieldErrors.forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  return errors;
}

/**
 * A pod's spec is immutable except images, activeDeadlineSeconds, tolerations (additions) and
 * scheduling gates (removals); anything else is one Forbidden error on `spec`, as upstream.
 */
export function validatePodUpdate(pod: unknown, oldPod: unknown): FieldError[] {
  const fields = record(pod);
  const spec = record(fields['spec']);
  const oldSpec = record(record(oldPod)['spec']);
  const errors = validateObjectMetaUpdate(fields['metadata'], record(oldPod)['metadata']);
  errors.push(...validateObjectMeta(fields['metadata'], true, nameIsDnsSubdomain));
  errors.push(...validatePodSpec(spec, 'spec'));
  for (const key of ['containers', 'initContainers']) {
    if (list(spec[key]).length !== list(oldSpec[key]).length) {
      errors.push(fieldErrors.forbidden(`spec.${key}`, 'pod updates may not add or remove containers'));
      return errors;
    }
  }
  const munged = mungeUpdatableFields(spec, oldSpec);
  if (!deepEqual(munged, oldSpec)) {
    const message = `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${specDiff(oldSpec, munged)}`;
    errors.push(fieldErrors.forbidden('spec', message));
  }
  return errors;
}

/** The new spec with every field an update may change put back to its old value. */
function mungeUpdatableFields(spec: Record<string, unknown>, oldSpec: Record<string, unknown>): Record<string, unknown> {
  const withOldImages = (key: string): unknown[] =>
    list(spec[key]).map((container, index) => ({ ...record(container), image: record(list(oldSpec[key])[index])['image'] }));
  const munged: Record<string, unknown> = { ...spec, containers: withOldImages('containers'), initContainers: withOldImages('initContainers') };
  for (const key of ['activeDeadlineSeconds', 'tolerations', 'schedulingGates']) munged[key] = oldSpec[key];
  const oldGrace = oldSpec['terminationGracePeriodSeconds'];
  if (typeof oldGrace === 'number' && oldGrace < 0 && spec['terminationGracePeriodSeconds'] === 1)
    munged['terminationGracePeriodSeconds'] = oldGrace;
  return munged;
}

/** A short stand-in for upstream's cmp.Diff: one -/+ pair per changed top-level spec field. */
function specDiff(oldSpec: Record<string, unknown>, newSpec: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(oldSpec), ...Object.keys(newSpec)])].sort();
  const lines = keys
    .filter((key) => !deepEqual(oldSpec[key], newSpec[key]))
    .flatMap((key) => [`- \t${key}: ${JSON.stringify(oldSpec[key] ?? null)},`, `+ \t${key}: ${JSON.stringify(newSpec[key] ?? null)},`]);
  return ['  core.PodSpec{', ...lines, '  }', ''].join('\n');
}

/** A pod template inside a workload: labels at `<path>.labels` (upstream's path), spec at `<path>.spec`. */
export function validatePodTemplateSpec(template: unknown, path: string): FieldError[] {
  const fields = record(template);
  const metadata = record(fields['metadata']);
  const errors = [
    ...validateLabels(metadata['labels'], `${path}.labels`),
    ...validateAnnotations(metadata['annotations'], `${path}.annotations`),
    ...validatePodSpec(fields['spec'], `${path}.spec`),
  ];
  if (list(record(fields['spec'])['ephemeralContainers']).length > 0)
    errors.push(fieldErrors.forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  return errors;
}

export function validatePodSpec(podSpec: unknown, path: string): FieldError[] {
  const spec = record(podSpec);
  const volumeNames = new Set<string>();
  const grace = spec['terminationGracePeriodSeconds'];
  const gracePeriod = typeof grace === 'number' ? grace : undefined;
  const errors = validateVolumes(spec['volumes'], `${path}.volumes`, volumeNames);
  errors.push(...validateContainers(spec['containers'], `${path}.containers`, volumeNames, gracePeriod));
  errors.push(...validateInitContainers(spec['initContainers'], spec['containers'], `${path}.initContainers`, volumeNames, gracePeriod));
  errors.push(...oneOf(`${path}.restartPolicy`, spec['restartPolicy'], RESTART_POLICIES));
  errors.push(...oneOf(`${path}.dnsPolicy`, spec['dnsPolicy'], DNS_POLICIES));
  for (const key of ['serviceAccountName', 'nodeName']) {
    const value = text(spec[key]);
    if (value !== '') errors.push(...invalidEach(`${path}.${key}`, value, nameIsDnsSubdomain(value, false)));
  }
  const deadline = spec['activeDeadlineSeconds'];
  if (typeof deadline === 'number' && (deadline < 1 || deadline > MAX_INT32))
    errors.push(fieldErrors.invalid(`${path}.activeDeadlineSeconds`, deadline, inclusiveRangeError(1, MAX_INT32)));
  return errors;
}

/** Required when empty, else one of the supported values (upstream's switch on policy fields). */
function oneOf(path: string, value: unknown, supported: readonly string[]): FieldError[] {
  const given = text(value);
  if (given === '') return [fieldErrors.required(path)];
  return supported.includes(given) ? [] : [fieldErrors.notSupported(path, given, supported)];
}

function validateVolumes(volumes: unknown, path: string, names: Set<string>): FieldError[] {
  const errors: FieldError[] = [];
  list(volumes).forEach((volume, index) => {
    const name = text(record(volume)['name']);
    const namePath = `${path}[${index}].name`;
    if (name === '') errors.push(fieldErrors.required(namePath));
    else errors.push(...invalidEach(namePath, name, isDns1123Label(name)));
    if (names.has(name)) errors.push(fieldErrors.duplicate(namePath, name));
    else if (name !== '') names.add(name);
  });
  return errors;
}

function validateContainers(containers: unknown, path: string, volumes: ReadonlySet<string>, gracePeriod: number | undefined): FieldError[] {
  const items = list(containers);
  if (items.length === 0) return [fieldErrors.required(path)];
  const names = new Set<string>();
  return items.flatMap((item, index) => {
    const container = record(item);
    const itemPath = `${path}[${index}]`;
    const errors = validateContainer(container, itemPath, volumes);
    const name = text(container['name']);
    if (names.has(name)) errors.push(fieldErrors.duplicate(`${itemPath}.name`, name));
    else names.add(name);
    errors.push(...validateProbesAndLifecycle(container, itemPath, gracePeriod));
    if (isSet(container['restartPolicy']))
      errors.push(fieldErrors.forbidden(`${itemPath}.restartPolicy`, 'may not be set for non-init containers'));
    return errors;
  });
}

/** An init container with restartPolicy Always is a sidecar: it runs beside the others, probed like them. */
function validateInitContainers(
  containers: unknown,
  regular: unknown,
  path: string,
  volumes: ReadonlySet<string>,
  gracePeriod: number | undefined,
): FieldError[] {
  const names = new Set(list(regular).map((container) => text(record(container)['name'])));
  return list(containers).flatMap((item, index) => {
    const container = record(item);
    const itemPath = `${path}[${index}]`;
    const errors = validateContainer(container, itemPath, volumes);
    const restartPolicy = container['restartPolicy'];
    if (isSet(restartPolicy) && restartPolicy !== 'Always')
      errors.push(fieldErrors.notSupported(`${itemPath}.restartPolicy`, restartPolicy, ['Always']));
    const name = text(container['name']);
    if (names.has(name)) errors.push(fieldErrors.duplicate(`${itemPath}.name`, name));
    else if (name !== '') names.add(name);
    if (restartPolicy === 'Always') errors.push(...validateProbesAndLifecycle(container, itemPath, gracePeriod));
    else errors.push(...forbidProbesAndLifecycle(container, itemPath));
    return errors;
  });
}

function validateContainer(container: Record<string, unknown>, path: string, volumes: ReadonlySet<string>): FieldError[] {
  const errors: FieldError[] = [];
  const name = text(container['name']);
  if (name === '') errors.push(fieldErrors.required(`${path}.name`));
  else errors.push(...invalidEach(`${path}.name`, name, isDns1123Label(name)));
  if (text(container['image']) === '') errors.push(fieldErrors.required(`${path}.image`));
  errors.push(...oneOf(`${path}.terminationMessagePolicy`, container['terminationMessagePolicy'], TERMINATION_MESSAGE_POLICIES));
  errors.push(...validateContainerPorts(container['ports'], `${path}.ports`));
  errors.push(...validateEnv(container['env'], `${path}.env`));
  errors.push(...validateVolumeMounts(container['volumeMounts'], `${path}.volumeMounts`, volumes));
  errors.push(...oneOf(`${path}.imagePullPolicy`, container['imagePullPolicy'], PULL_POLICIES));
  errors.push(...validateResources(record(container['resources']), `${path}.resources`));
  return errors;
}

function validateContainerPorts(ports: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const names = new Set<string>();
  list(ports).forEach((item, index) => {
    const port = record(item);
    const itemPath = `${path}[${index}]`;
    const name = text(port['name']);
    if (name !== '') {
      const nameErrors = isValidPortName(name);
      if (nameErrors.length > 0) errors.push(...invalidEach(`${itemPath}.name`, name, nameErrors));
      else if (names.has(name)) errors.push(fieldErrors.duplicate(`${itemPath}.name`, name));
      else names.add(name);
    }
    const containerPort = port['containerPort'];
    if (containerPort === undefined || containerPort === 0) errors.push(fieldErrors.required(`${itemPath}.containerPort`));
    else errors.push(...invalidEach(`${itemPath}.containerPort`, containerPort, isValidPortNumber(Number(containerPort))));
    const hostPort = port['hostPort'];
    if (hostPort !== undefined && hostPort !== 0) errors.push(...invalidEach(`${itemPath}.hostPort`, hostPort, isValidPortNumber(Number(hostPort))));
    errors.push(...validateProtocol(port['protocol'], `${itemPath}.protocol`));
  });
  return errors;
}

export function validateProtocol(protocol: unknown, path: string): FieldError[] {
  const given = text(protocol);
  if (given === '') return [fieldErrors.required(path)];
  return PROTOCOLS.includes(given) ? [] : [fieldErrors.notSupported(path, given, PROTOCOLS)];
}

function validateEnv(env: unknown, path: string): FieldError[] {
  return list(env).flatMap((variable, index) =>
    text(record(variable)['name']) === '' ? [fieldErrors.required(`${path}[${index}].name`)] : [],
  );
}

function validateVolumeMounts(mounts: unknown, path: string, volumes: ReadonlySet<string>): FieldError[] {
  const errors: FieldError[] = [];
  const mountPaths = new Set<string>();
  list(mounts).forEach((item, index) => {
    const mount = record(item);
    const itemPath = `${path}[${index}]`;
    const name = text(mount['name']);
    const mountPath = text(mount['mountPath']);
    if (name === '') errors.push(fieldErrors.required(`${itemPath}.name`));
    if (!volumes.has(name)) errors.push(fieldErrors.notFound(`${itemPath}.name`, name));
    if (mountPath === '') errors.push(fieldErrors.required(`${itemPath}.mountPath`));
    if (mountPaths.has(mountPath)) errors.push(fieldErrors.invalid(`${itemPath}.mountPath`, mountPath, 'must be unique'));
    mountPaths.add(mountPath);
  });
  return errors;
}

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

/** Names, quantities, and requests <= limits (== for resources that cannot be overcommitted). */
export function validateResources(resources: Record<string, unknown>, path: string): FieldError[] {
  const limits = record(resources['limits']);
  const requests = record(resources['requests']);
  const errors: FieldError[] = [];
  for (const [name, value] of Object.entries(limits)) errors.push(...validateResourceEntry(name, value, `${path}.limits[${name}]`));
  for (const [name, value] of Object.entries(requests)) {
    errors.push(...validateResourceEntry(name, value, `${path}.requests[${name}]`));
    errors.push(...compareWithLimit(name, value, limits[name], path));
  }
  return errors;
}

function validateResourceEntry(name: string, value: unknown, path: string): FieldError[] {
  const nameErrors = invalidEach(path, name, isQualifiedName(name));
  if (nameErrors.length === 0 && !name.includes('/') && !isStandardContainerResource(name))
    nameErrors.push(fieldErrors.invalid(path, name, 'must be a standard resource for containers'));
  const quantity = tryParseQuantity(value);
  // Upstream rejects a malformed quantity while decoding; here it is a field error on the same path.
  if (quantity === undefined) return [...nameErrors, fieldErrors.invalid(path, value, QUANTITY_FORMAT_MESSAGE)];
  if (quantity.numerator < 0n) nameErrors.push(fieldErrors.invalid(path, String(value), IS_NEGATIVE));
  return nameErrors;
}

function isStandardContainerResource(name: string): boolean {
  return STANDARD_CONTAINER_RESOURCES.has(name) || name.startsWith('hugepages-');
}

/** Native resources (no domain, or kubernetes.io's) other than hugepages may be overcommitted. */
function isOvercommitAllowed(name: string): boolean {
  const native = !name.includes('/') || name.includes('kubernetes.io/');
  return native && !name.startsWith('hugepages-');
}

function compareWithLimit(name: string, request: unknown, limit: unknown, path: string): FieldError[] {
  const requested = tryParseQuantity(request);
  if (limit === undefined) {
    return isOvercommitAllowed(name) ? [] : [fieldErrors.required(`${path}.limits`, 'Limit must be set for non overcommitable resources')];
  }
  const limited = tryParseQuantity(limit);
  if (requested === undefined || limited === undefined) return [];
  const order = compareQuantities(requested, limited);
  if (order !== 0 && !isOvercommitAllowed(name))
    return [fieldErrors.invalid(`${path}.requests`, String(request), `must be equal to ${name} limit of ${String(limit)}`)];
  if (order > 0) return [fieldErrors.invalid(`${path}.requests`, String(request), `must be less than or equal to ${name} limit of ${String(limit)}`)];
  return [];
}
