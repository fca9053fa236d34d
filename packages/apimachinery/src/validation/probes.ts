/**
 * Container probes and lifecycle hooks (pkg/apis/core/validation: validateLivenessProbe and its
 * siblings, validateHandler, validateLifecycle), with upstream 1.32's paths and messages. Expects a
 * defaulted container, as kube-apiserver validates after defaulting (thresholds, path and scheme set).
 */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';
import { invalidEach, list, nonNegative, record, text } from './common.js';
import { isValidPortName, isValidPortNumber, regexError } from './names.js';

const SUPPORTED_HTTP_SCHEMES = ['HTTP', 'HTTPS'];
const HTTP_HEADER_NAME_FORMAT = '[-A-Za-z0-9]+';
const HTTP_HEADER_NAME = new RegExp(`^${HTTP_HEADER_NAME_FORMAT}$`);
const NOT_FOR_PLAIN_INIT_CONTAINERS = 'may not be set for init containers without restartPolicy=Always';
const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

/** Go's pointer fields: JSON null and absence both leave them nil. */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/**
 * Lifecycle hooks and probes of a regular container or a sidecar (an init container with
 * restartPolicy Always). `gracePeriod` is the pod's terminationGracePeriodSeconds, which bounds a
 * sleep hook; absent, the sleep is not bounded (upstream leaves that to the grace period's own check).
 */
export function validateProbesAndLifecycle(container: Record<string, unknown>, path: string, gracePeriod: number | undefined): FieldError[] {
  const errors: FieldError[] = [];
  const lifecycle = container['lifecycle'];
  if (isSet(lifecycle)) {
    for (const hook of ['postStart', 'preStop']) {
      const handler = record(lifecycle)[hook];
      if (isSet(handler)) errors.push(...validateHandler(lifecycleActions(record(handler)), gracePeriod, `${path}.lifecycle.${hook}`));
    }
  }
  for (const kind of PROBES) {
    const probe = container[kind];
    if (isSet(probe)) errors.push(...validateProbe(kind, record(probe), gracePeriod, `${path}.${kind}`));
  }
  return errors;
}

/** An init container that is not a sidecar runs to completion: hooks and probes have no meaning for it. */
export function forbidProbesAndLifecycle(container: Record<string, unknown>, path: string): FieldError[] {
  return ['lifecycle', ...PROBES]
    .filter((key) => isSet(container[key]))
    .map((key) => fieldErrors.forbidden(`${path}.${key}`, NOT_FOR_PLAIN_INIT_CONTAINERS));
}

function validateProbe(kind: (typeof PROBES)[number], probe: Record<string, unknown>, gracePeriod: number | undefined, path: string): FieldError[] {
  const errors = validateHandler(probeActions(probe), gracePeriod, path);
  for (const key of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'])
    errors.push(...nonNegative(`${path}.${key}`, probe[key]));
  const probeGrace = probe['terminationGracePeriodSeconds'];
  if (typeof probeGrace === 'number' && probeGrace <= 0)
    errors.push(fieldErrors.invalid(`${path}.terminationGracePeriodSeconds`, probeGrace, 'must be greater than 0'));
  if (kind === 'readinessProbe') {
    // A readiness probe never restarts the container, so it has no grace period of its own.
    if (isSet(probeGrace)) errors.push(fieldErrors.invalid(`${path}.terminationGracePeriodSeconds`, probeGrace, 'must not be set for readinessProbes'));
  } else {
    const success = typeof probe['successThreshold'] === 'number' ? probe['successThreshold'] : 0;
    if (success !== 1) errors.push(fieldErrors.invalid(`${path}.successThreshold`, success, 'must be 1'));
  }
  return errors;
}

/** The actions a handler may name, in upstream's order; a probe has no sleep, a hook no grpc. */
interface Actions {
  exec?: unknown;
  httpGet?: unknown;
  tcpSocket?: unknown;
  grpc?: unknown;
  sleep?: unknown;
}

function probeActions(probe: Record<string, unknown>): Actions {
  return { exec: probe['exec'], httpGet: probe['httpGet'], tcpSocket: probe['tcpSocket'], grpc: probe['grpc'] };
}

function lifecycleActions(handler: Record<string, unknown>): Actions {
  return { exec: handler['exec'], httpGet: handler['httpGet'], tcpSocket: handler['tcpSocket'], sleep: handler['sleep'] };
}

/** Exactly one action: the first set is validated, each further one is Forbidden on its own path. */
function validateHandler(actions: Actions, gracePeriod: number | undefined, path: string): FieldError[] {
  const errors: FieldError[] = [];
  let handlers = 0;
  for (const [name, action] of Object.entries(actions)) {
    if (!isSet(action)) continue;
    const actionPath = `${path}.${name}`;
    if (handlers > 0) {
      errors.push(fieldErrors.forbidden(actionPath, 'may not specify more than 1 handler type'));
      continue;
    }
    handlers++;
    errors.push(...validateAction(name, record(action), gracePeriod, actionPath));
  }
  if (handlers === 0) errors.push(fieldErrors.required(path, 'must specify a handler type'));
  return errors;
}

function validateAction(name: string, action: Record<string, unknown>, gracePeriod: number | undefined, path: string): FieldError[] {
  switch (name) {
    case 'exec':
      return list(action['command']).length === 0 ? [fieldErrors.required(`${path}.command`)] : [];
    case 'httpGet':
      return validateHttpGet(action, path);
    case 'tcpSocket':
      return validatePortNumOrName(action['port'], `${path}.port`);
    case 'grpc':
      // An int32 field: anything but a number reads as absent, i.e. 0.
      return validatePortNumOrName(typeof action['port'] === 'number' ? action['port'] : 0, `${path}.port`);
    case 'sleep':
      return validateSleep(action, gracePeriod, path);
    default:
      return [];
  }
}

function validateHttpGet(action: Record<string, unknown>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (text(action['path']) === '') errors.push(fieldErrors.required(`${path}.path`));
  errors.push(...validatePortNumOrName(action['port'], `${path}.port`));
  const scheme = text(action['scheme']);
  if (!SUPPORTED_HTTP_SCHEMES.includes(scheme)) errors.push(fieldErrors.notSupported(`${path}.scheme`, scheme, SUPPORTED_HTTP_SCHEMES));
  // Upstream reports every bad header name on the list's path, without an index.
  for (const header of list(action['httpHeaders'])) {
    const name = text(record(header)['name']);
    errors.push(...invalidEach(`${path}.httpHeaders`, name, isHttpHeaderName(name)));
  }
  return errors;
}

/** An IntOrString port: a number is a port number, a string an IANA port name; absent is the number 0. */
function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'string') return invalidEach(path, port, isValidPortName(port));
  const value = typeof port === 'number' ? port : 0;
  return invalidEach(path, value, isValidPortNumber(value));
}

/**
 * 1.32 keeps PodLifecycleSleepActionAllowZero (alpha) off, so a sleep must be 1..grace period;
 * upstream's message names the gate by its option's name, as here.
 */
function validateSleep(action: Record<string, unknown>, gracePeriod: number | undefined, path: string): FieldError[] {
  const seconds = typeof action['seconds'] === 'number' ? action['seconds'] : 0;
  if (gracePeriod === undefined || (seconds > 0 && seconds <= gracePeriod)) return [];
  return [
    fieldErrors.invalid(
      path,
      seconds,
      `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`,
    ),
  ];
}

/** k8s.io/apimachinery's IsHTTPHeaderName: the Go HTTP library's (stricter than RFC 7230) header names. */
function isHttpHeaderName(value: string): string[] {
  return HTTP_HEADER_NAME.test(value)
    ? []
    : [regexError("a valid HTTP header must consist of alphanumeric characters or '-'", HTTP_HEADER_NAME_FORMAT, 'X-Header-Name')];
}
