/**
 * ConfigMaps, Secrets and ServiceAccounts (core validation).
 */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';
import { immutable, invalidEach, record, text } from './common.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import { byteLength, isConfigMapKey, nameIsDnsSubdomain } from './names.js';

/** core.MaxSecretSize, which ConfigMaps share: 1 MiB of data. */
export const MAX_DATA_SIZE_BYTES = 1024 * 1024;

const IMMUTABLE_WHEN_SET = 'field is immutable when `immutable` is set';

export function validateConfigMap(configMap: unknown): FieldError[] {
  const fields = record(configMap);
  const data = record(fields['data']);
  const binaryData = record(fields['binaryData']);
  const errors = validateObjectMeta(fields['metadata'], true, nameIsDnsSubdomain);
  let totalBytes = 0;
  for (const [key, value] of Object.entries(data)) {
    errors.push(...invalidEach(`data[${key}]`, key, isConfigMapKey(key)));
    if (key in binaryData) errors.push(fieldErrors.invalid(`data[${key}]`, key, 'duplicate of key present in binaryData'));
    totalBytes += byteLength(text(value));
  }
  for (const [key, value] of Object.entries(binaryData)) {
    errors.push(...invalidEach(`binaryData[${key}]`, key, isConfigMapKey(key)));
    totalBytes += decodedLength(text(value));
  }
  // The empty path means the whole object, as upstream reports it.
  if (totalBytes > MAX_DATA_SIZE_BYTES) errors.push(fieldErrors.tooLong('', '', MAX_DATA_SIZE_BYTES));
  return errors;
}

export function validateConfigMapUpdate(configMap: unknown, old: unknown): FieldError[] {
  const fields = record(configMap);
  const oldFields = record(old);
  const errors = validateObjectMetaUpdate(fields['metadata'], oldFields['metadata']);
  if (oldFields['immutable'] === true) {
    if (fields['immutable'] !== true) errors.push(fieldErrors.forbidden('immutable', IMMUTABLE_WHEN_SET));
    for (const key of ['data', 'binaryData'])
      if (immutable(key, fields[key], oldFields[key]).length > 0) errors.push(fieldErrors.forbidden(key, IMMUTABLE_WHEN_SET));
  }
  return [...errors, ...validateConfigMap(configMap)];
}

/** Secret data is base64 on the wire; sizes and keys are checked as upstream does after decoding. */
export function validateSecret(secret: unknown): FieldError[] {
  const fields = record(secret);
  const data = record(fields['data']);
  const errors = validateObjectMeta(fields['metadata'], true, nameIsDnsSubdomain);
  let totalBytes = 0;
  for (const [key, value] of Object.entries(data)) {
    errors.push(...invalidEach(`data[${key}]`, key, isConfigMapKey(key)));
    totalBytes += decodedLength(text(value));
  }
  if (totalBytes > MAX_DATA_SIZE_BYTES) errors.push(fieldErrors.tooLong('data', '', MAX_DATA_SIZE_BYTES));
  errors.push(...validateSecretType(text(fields['type']), data, record(record(fields['metadata'])['annotations'])));
  return errors;
}

/** The keys each well-known Secret type must carry. */
function validateSecretType(type: string, data: Record<string, unknown>, annotations: Record<string, unknown>): FieldError[] {
  const missing = (key: string): FieldError[] => (key in data ? [] : [fieldErrors.required(`data[${key}]`)]);
  switch (type) {
    case 'kubernetes.io/service-account-token':
      return text(annotations['kubernetes.io/service-account.name']) === ''
        ? [fieldErrors.required('metadata.annotations[kubernetes.io/service-account.name]')]
        : [];
    case 'kubernetes.io/dockercfg':
      return missing('.dockercfg');
    case 'kubernetes.io/dockerconfigjson':
      return missing('.dockerconfigjson');
    case 'kubernetes.io/basic-auth':
      return 'username' in data || 'password' in data ? [] : [...missing('username'), ...missing('password')];
    case 'kubernetes.io/ssh-auth':
      return text(data['ssh-privatekey']) === '' ? [fieldErrors.required('data[ssh-privatekey]')] : [];
    case 'kubernetes.io/tls':
      return [...missing('tls.crt'), ...missing('tls.key')];
    default:
      return [];
  }
}

export function validateSecretUpdate(secret: unknown, old: unknown): FieldError[] {
  const fields = record(secret);
  const oldFields = record(old);
  const errors = validateObjectMetaUpdate(fields['metadata'], oldFields['metadata']);
  errors.push(...immutable('type', text(fields['type']), text(oldFields['type'])));
  if (oldFields['immutable'] === true) {
    if (fields['immutable'] !== true) errors.push(fieldErrors.forbidden('immutable', IMMUTABLE_WHEN_SET));
    if (immutable('data', fields['data'], oldFields['data']).length > 0) errors.push(fieldErrors.forbidden('data', IMMUTABLE_WHEN_SET));
  }
  return [...errors, ...validateSecret(secret)];
}

export function validateServiceAccount(serviceAccount: unknown): FieldError[] {
  return validateObjectMeta(record(serviceAccount)['metadata'], true, nameIsDnsSubdomain);
}

/** Bytes a base64 string decodes to, without decoding it. */
function decodedLength(base64: string): number {
  const trimmed = base64.replace(/\s/g, '');
  const padding = trimmed.endsWith('==') ? 2 : trimmed.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((trimmed.length * 3) / 4) - padding);
}
