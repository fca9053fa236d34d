/**
 * ObjectMeta validation (k8s.io/apimachinery/pkg/api/validation/objectmeta.go plus core's finalizer
 * rule), labels, annotations and label selectors.
 */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';
import { immutable, invalidEach, list, record, stringMap, text } from './common.js';
import type { NameValidator } from './names.js';
import { byteLength, isLabelValue, isQualifiedName, nameIsDnsLabel } from './names.js';

/** 256 KiB for all keys and values together. */
export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/**
 * Metadata on create (the name is validated with the resource's own rule). A name may be absent
 * when generateName is set: the server generates it before storing, as kube-apiserver does before
 * validating.
 */
export function validateObjectMeta(metadata: unknown, namespaced: boolean, nameIsValid: NameValidator, path = 'metadata'): FieldError[] {
  const meta = record(metadata);
  const name = text(meta['name']);
  const generateName = text(meta['generateName']);
  const namespace = text(meta['namespace']);
  const errors: FieldError[] = [];
  if (generateName !== '') errors.push(...invalidEach(`${path}.generateName`, generateName, nameIsValid(generateName, true)));
  if (name === '') {
    if (generateName === '') errors.push(fieldErrors.required(`${path}.name`, 'name or generateName is required'));
  } else {
    errors.push(...invalidEach(`${path}.name`, name, nameIsValid(name, false)));
  }
  if (namespaced) {
    if (namespace === '') errors.push(fieldErrors.required(`${path}.namespace`));
    else errors.push(...invalidEach(`${path}.namespace`, namespace, nameIsDnsLabel(namespace, false)));
  } else if (namespace !== '') {
    // kube-apiserver clears a cluster-scoped object's namespace before validating; handlers should too.
    errors.push(fieldErrors.forbidden(`${path}.namespace`, 'not allowed on this type'));
  }
  errors.push(...validateLabels(meta['labels'], `${path}.labels`));
  errors.push(...validateAnnotations(meta['annotations'], `${path}.annotations`));
  errors.push(...validateOwnerReferences(meta['ownerReferences'], `${path}.ownerReferences`));
  errors.push(...validateFinalizers(meta['finalizers'], `${path}.finalizers`));
  return errors;
}

/**
 * The identity fields an update may not change. An absent uid or creationTimestamp counts as
 * unchanged: kube-apiserver copies both from the stored object before validating.
 */
export function validateObjectMetaUpdate(metadata: unknown, oldMetadata: unknown, path = 'metadata'): FieldError[] {
  const meta = record(metadata);
  const old = record(oldMetadata);
  const keptUnlessSet = (field: string): unknown => (meta[field] === undefined ? old[field] : meta[field]);
  return [
    ...immutable(`${path}.name`, text(meta['name']), text(old['name'])),
    ...immutable(`${path}.namespace`, text(meta['namespace']), text(old['namespace'])),
    ...immutable(`${path}.uid`, keptUnlessSet('uid'), old['uid']),
    ...immutable(`${path}.creationTimestamp`, keptUnlessSet('creationTimestamp'), old['creationTimestamp']),
  ];
}

export function validateLabels(labels: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(stringMap(labels))) {
    errors.push(...invalidEach(path, key, isQualifiedName(key)));
    errors.push(...invalidEach(path, value, isLabelValue(value)));
  }
  return errors;
}

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  const entries = Object.entries(stringMap(annotations));
  // Annotation keys are qualified names in any letter case.
  const errors = entries.flatMap(([key]) => invalidEach(path, key, isQualifiedName(key.toLowerCase())));
  const totalBytes = entries.reduce((sum, [key, value]) => sum + byteLength(key) + byteLength(value), 0);
  if (totalBytes > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) errors.push(fieldErrors.tooLong(path, '', TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  return errors;
}

function validateOwnerReferences(references: unknown, path: string): FieldError[] {
  const errors: FieldError[] = [];
  let controller = '';
  for (const reference of list(references).map(record)) {
    const apiVersion = text(reference['apiVersion']);
    const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
    if (version === '') errors.push(fieldErrors.invalid(`${path}.apiVersion`, apiVersion, 'version must not be empty'));
    for (const field of ['kind', 'name', 'uid'])
      if (text(reference[field]) === '') errors.push(fieldErrors.invalid(`${path}.${field}`, '', 'must not be empty'));
    if (reference['controller'] === true) {
      const current = `${text(reference['kind'])}/${text(reference['name'])}`;
      if (controller !== '')
        errors.push(
          fieldErrors.invalid(path, references, `Only one reference can have Controller set to true. Found "true" in references for ${controller} and ${current}`),
        );
      else controller = current;
    }
  }
  return errors;
}

function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  const names = list(finalizers).map(text);
  const errors = names.flatMap((name) => invalidEach(path, name, isQualifiedName(name)));
  if (names.includes('orphan') && names.includes('foregroundDeletion'))
    errors.push(fieldErrors.invalid(path, names, 'finalizer orphan and foregroundDeletion cannot be both set'));
  names.forEach((name, index) => errors.push(...validateKubeFinalizerName(name, `${path}[${index}]`)));
  return errors;
}

/** Unprefixed finalizer names must be one of Kubernetes' own. */
export function validateKubeFinalizerName(name: string, path: string): FieldError[] {
  if (name.includes('/') || STANDARD_FINALIZERS.has(name)) return [];
  return [fieldErrors.invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified')];
}

/** meta/v1 ValidateLabelSelector. */
export function validateLabelSelector(selector: unknown, path: string): FieldError[] {
  const fields = record(selector);
  const errors = validateLabels(fields['matchLabels'], `${path}.matchLabels`);
  list(fields['matchExpressions']).forEach((expression, index) => {
    errors.push(...validateSelectorRequirement(record(expression), `${path}.matchExpressions[${index}]`));
  });
  return errors;
}

function validateSelectorRequirement(requirement: Record<string, unknown>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const operator = text(requirement['operator']);
  const values = list(requirement['values']).map(text);
  if (operator === 'In' || operator === 'NotIn') {
    if (values.length === 0) errors.push(fieldErrors.required(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
  } else if (operator === 'Exists' || operator === 'DoesNotExist') {
    if (values.length > 0)
      errors.push(fieldErrors.forbidden(`${path}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
  } else {
    errors.push(fieldErrors.invalid(`${path}.operator`, operator, 'not a valid selector operator'));
  }
  const key = text(requirement['key']);
  errors.push(...invalidEach(`${path}.key`, key, isQualifiedName(key)));
  values.forEach((value, index) => errors.push(...invalidEach(`${path}.values[${index}]`, value, isLabelValue(value))));
  return errors;
}
