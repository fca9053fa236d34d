import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../defaults.js';
import { formatFieldError } from '../errors.js';
import { validatePod, validatePodTemplateSpec } from './pods.js';

/** Defaults then validates a pod, as the API server does; errors read as kubectl prints them. */
function check(container: Record<string, unknown>, spec: Record<string, unknown> = {}): string[] {
  const pod = { metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', ...container }], ...spec } };
  applyDefaults({ group: '', resource: 'pods' }, pod);
  return validatePod(pod).map(formatFieldError);
}

const C = 'spec.containers[0]';
const HEADER_REGEX = "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')";

describe('probes', () => {
  it('accepts each handler type on each probe', () => {
    expect(
      check({
        livenessProbe: { httpGet: { port: 8080, path: '/healthz', scheme: 'HTTPS', httpHeaders: [{ name: 'X-Probe', value: '1' }] } },
        readinessProbe: { tcpSocket: { port: 'http' } },
        startupProbe: { exec: { command: ['true'] }, failureThreshold: 30, terminationGracePeriodSeconds: 5 },
        ports: [{ name: 'http', containerPort: 8080 }],
      }),
    ).toEqual([]);
    expect(check({ livenessProbe: { grpc: { port: 9000, service: 'health' } } })).toEqual([]);
  });

  it('requires one handler and forbids a second, on the second one path', () => {
    expect(check({ livenessProbe: { initialDelaySeconds: 5 } })).toEqual([`${C}.livenessProbe: Required value: must specify a handler type`]);
    expect(check({ readinessProbe: { exec: { command: ['true'] }, httpGet: { port: 80 }, grpc: { port: 9000 } } })).toEqual([
      `${C}.readinessProbe.httpGet: Forbidden: may not specify more than 1 handler type`,
      `${C}.readinessProbe.grpc: Forbidden: may not specify more than 1 handler type`,
    ]);
    // A probe has no sleep action: one alone is no handler at all.
    expect(check({ startupProbe: { sleep: { seconds: 1 } } })).toEqual([`${C}.startupProbe: Required value: must specify a handler type`]);
  });

  it('needs successThreshold 1 for liveness and startup probes, and no negative numbers', () => {
    expect(check({ livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 } })).toEqual([
      `${C}.livenessProbe.successThreshold: Invalid value: 2: must be 1`,
    ]);
    expect(check({ startupProbe: { tcpSocket: { port: 80 }, successThreshold: -1, periodSeconds: -5 } })).toEqual([
      `${C}.startupProbe.periodSeconds: Invalid value: -5: must be greater than or equal to 0`,
      `${C}.startupProbe.successThreshold: Invalid value: -1: must be greater than or equal to 0`,
      `${C}.startupProbe.successThreshold: Invalid value: -1: must be 1`,
    ]);
    expect(check({ readinessProbe: { tcpSocket: { port: 80 }, successThreshold: 3, initialDelaySeconds: -1, timeoutSeconds: -1, failureThreshold: -2 } })).toEqual([
      `${C}.readinessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0`,
      `${C}.readinessProbe.timeoutSeconds: Invalid value: -1: must be greater than or equal to 0`,
      `${C}.readinessProbe.failureThreshold: Invalid value: -2: must be greater than or equal to 0`,
    ]);
  });

  it('checks a probe terminationGracePeriodSeconds, and forbids one on a readiness probe', () => {
    expect(check({ livenessProbe: { tcpSocket: { port: 80 }, terminationGracePeriodSeconds: 0 } })).toEqual([
      `${C}.livenessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0`,
    ]);
    expect(check({ readinessProbe: { tcpSocket: { port: 80 }, terminationGracePeriodSeconds: 10 } })).toEqual([
      `${C}.readinessProbe.terminationGracePeriodSeconds: Invalid value: 10: must not be set for readinessProbes`,
    ]);
  });

  it('checks httpGet: port number or IANA name, scheme, header names', () => {
    expect(check({ livenessProbe: { httpGet: { port: 0 } } })).toEqual([`${C}.livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive`]);
    expect(check({ livenessProbe: { httpGet: {} } })).toEqual([`${C}.livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive`]);
    expect(check({ livenessProbe: { httpGet: { port: 70000 } } })).toEqual([
      `${C}.livenessProbe.httpGet.port: Invalid value: 70000: must be between 1 and 65535, inclusive`,
    ]);
    // A quoted number is a port name, as intstr decodes it.
    expect(check({ livenessProbe: { httpGet: { port: '8080' } } })).toEqual([
      `${C}.livenessProbe.httpGet.port: Invalid value: "8080": must contain at least one letter (a-z)`,
    ]);
    expect(check({ livenessProbe: { httpGet: { port: 80, scheme: 'FTP', httpHeaders: [{ name: 'X_Bad', value: '' }, { name: 'Good', value: '' }] } } })).toEqual([
      `${C}.livenessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"`,
      `${C}.livenessProbe.httpGet.httpHeaders: Invalid value: "X_Bad": ${HEADER_REGEX}`,
    ]);
  });

  it('checks tcpSocket and grpc ports, and exec commands', () => {
    expect(check({ livenessProbe: { tcpSocket: { port: 'Web--Port' } } })).toEqual([
      `${C}.livenessProbe.tcpSocket.port: Invalid value: "Web--Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
      `${C}.livenessProbe.tcpSocket.port: Invalid value: "Web--Port": must not contain consecutive hyphens`,
    ]);
    expect(check({ livenessProbe: { grpc: { port: 65536 } } })).toEqual([`${C}.livenessProbe.grpc.port: Invalid value: 65536: must be between 1 and 65535, inclusive`]);
    expect(check({ livenessProbe: { exec: {} } })).toEqual([`${C}.livenessProbe.exec.command: Required value`]);
    expect(check({ livenessProbe: { exec: { command: [] } } })).toEqual([`${C}.livenessProbe.exec.command: Required value`]);
  });
});

describe('lifecycle hooks', () => {
  it('accepts exec, httpGet, tcpSocket and a sleep within the grace period', () => {
    expect(check({ lifecycle: { postStart: { exec: { command: ['touch', '/ready'] } }, preStop: { sleep: { seconds: 30 } } } })).toEqual([]);
    expect(check({ lifecycle: { postStart: { httpGet: { port: 80 } }, preStop: { tcpSocket: { port: 80 } } } })).toEqual([]);
    expect(check({ lifecycle: {} })).toEqual([]);
  });

  it('needs exactly one action per hook; grpc is no hook action', () => {
    expect(check({ lifecycle: { preStop: {} } })).toEqual([`${C}.lifecycle.preStop: Required value: must specify a handler type`]);
    expect(check({ lifecycle: { postStart: { grpc: { port: 9000 } } } })).toEqual([`${C}.lifecycle.postStart: Required value: must specify a handler type`]);
    expect(check({ lifecycle: { preStop: { exec: { command: ['x'] }, sleep: { seconds: 1 } } } })).toEqual([
      `${C}.lifecycle.preStop.sleep: Forbidden: may not specify more than 1 handler type`,
    ]);
    expect(check({ lifecycle: { postStart: { httpGet: { port: 80, scheme: 'ftp' } } } })).toEqual([
      `${C}.lifecycle.postStart.httpGet.scheme: Unsupported value: "ftp": supported values: "HTTP", "HTTPS"`,
    ]);
  });

  it('bounds a sleep by the pod terminationGracePeriodSeconds, zero excluded (1.32: its gate is alpha)', () => {
    const tooLong = `${C}.lifecycle.preStop.sleep: Invalid value: 31: must be greater than 0 and less than terminationGracePeriodSeconds (30). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`;
    expect(check({ lifecycle: { preStop: { sleep: { seconds: 31 } } } })).toEqual([tooLong]);
    expect(check({ lifecycle: { preStop: { sleep: { seconds: 0 } } } })).toEqual([tooLong.replace('31', '0')]);
    expect(check({ lifecycle: { postStart: { sleep: { seconds: 60 } } } }, { terminationGracePeriodSeconds: 60 })).toEqual([]);
  });
});

describe('init containers', () => {
  const init = (fields: Record<string, unknown>) => ({ initContainers: [{ name: 'init', image: 'busybox', ...fields }] });

  it('forbids probes and hooks on an init container that is not a sidecar', () => {
    const probe = { tcpSocket: { port: 80 } };
    expect(check({}, init({ livenessProbe: probe, readinessProbe: probe, startupProbe: probe, lifecycle: { preStop: { sleep: { seconds: 1 } } } }))).toEqual([
      'spec.initContainers[0].lifecycle: Forbidden: may not be set for init containers without restartPolicy=Always',
      'spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always',
      'spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always',
      'spec.initContainers[0].startupProbe: Forbidden: may not be set for init containers without restartPolicy=Always',
    ]);
  });

  it('validates a sidecar probes like a regular container, and accepts only restartPolicy Always', () => {
    expect(check({}, init({ restartPolicy: 'Always', readinessProbe: { tcpSocket: { port: 80 } } }))).toEqual([]);
    expect(check({}, init({ restartPolicy: 'Always', livenessProbe: { tcpSocket: { port: 80 }, successThreshold: 2 } }))).toEqual([
      'spec.initContainers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1',
    ]);
    expect(check({}, init({ restartPolicy: 'OnFailure', startupProbe: { exec: { command: ['true'] } } }))).toEqual([
      'spec.initContainers[0].restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
      'spec.initContainers[0].startupProbe: Forbidden: may not be set for init containers without restartPolicy=Always',
    ]);
  });
});

describe('container ports', () => {
  it('rejects a duplicate port name in one container', () => {
    expect(check({ ports: [{ name: 'http', containerPort: 80 }, { name: 'http', containerPort: 81 }] })).toEqual([
      `${C}.ports[1].name: Duplicate value: "http"`,
    ]);
  });
});

describe('pod templates', () => {
  it('check probes under the template path', () => {
    const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', livenessProbe: { exec: {} } }] } };
    applyDefaults({ group: 'apps', resource: 'deployments' }, { spec: { template } });
    expect(validatePodTemplateSpec(template, 'spec.template').map(formatFieldError)).toEqual([
      'spec.template.spec.containers[0].livenessProbe.exec.command: Required value',
    ]);
  });
});
