import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { podPrinter } from './pod.js';

const NOW = new Date('2025-01-01T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW.getTime() - seconds * 1000).toISOString();

const RUNNING: ContainerStatus['state'] = { running: { startedAt: ago(600) } };

function container(name: string, fields: Partial<ContainerStatus> = {}): ContainerStatus {
  return { name, image: 'nginx:1.27', imageID: '', ready: false, restartCount: 0, ...fields };
}

function pod(fields: { spec?: Partial<Pod['spec']>; status?: Pod['status']; deletionTimestamp?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-1',
      namespace: 'default',
      creationTimestamp: ago(3600),
      ...(fields.deletionTimestamp === undefined ? {} : { deletionTimestamp: fields.deletionTimestamp }),
    },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27' }], ...fields.spec },
    status: fields.status ?? { phase: 'Pending' },
  };
}

/** The cells by upper-case column name, as kubectl headers them. */
function row(object: Pod): Record<string, unknown> {
  const cells = podPrinter.cells(object, NOW);
  return Object.fromEntries(podPrinter.columns.map((column, index) => [column.name.toUpperCase(), cells[index]]));
}

const status = (object: Pod): unknown => row(object)['STATUS'];

describe('pod table', () => {
  it('prints a running pod with wide columns', () => {
    const running = pod({
      spec: { nodeName: 'node-1' },
      status: {
        phase: 'Running',
        podIP: '10.244.1.5',
        podIPs: [{ ip: '10.244.1.5' }],
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [container('app', { ready: true, started: true, state: RUNNING })],
      },
    });
    expect(podPrinter.cells(running, NOW)).toEqual(['web-1', '1/1', 'Running', '0', '60m', '10.244.1.5', 'node-1', '<none>', '<none>']);
    expect(podPrinter.columns.filter((column) => column.priority === 1).map((column) => column.name)).toEqual([
      'IP',
      'Node',
      'Nominated Node',
      'Readiness Gates',
    ]);
  });

  it('prints <none> for an unscheduled pod', () => {
    expect(row(pod())).toMatchObject({ READY: '0/1', STATUS: 'Pending', IP: '<none>', NODE: '<none>' });
  });

  it('counts ready containers out of all', () => {
    const half = pod({
      spec: { containers: [{ name: 'app' }, { name: 'proxy' }] },
      status: {
        phase: 'Running',
        containerStatuses: [container('app', { ready: true, state: RUNNING }), container('proxy', { state: RUNNING })],
      },
    });
    expect(row(half)['READY']).toBe('1/2');
  });

  it('shows restarts with the time since the last termination', () => {
    const crashing = pod({
      status: {
        phase: 'Running',
        containerStatuses: [
          container('app', {
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(120) } },
          }),
        ],
      },
    });
    expect(row(crashing)).toMatchObject({ STATUS: 'CrashLoopBackOff', RESTARTS: '3 (2m ago)' });
  });

  it('shows bare restarts when no termination time is known', () => {
    const restarted = pod({ status: { phase: 'Running', containerStatuses: [container('app', { restartCount: 2, state: RUNNING })] } });
    expect(row(restarted)['RESTARTS']).toBe('2');
  });

  it('shows a waiting container reason', () => {
    const creating = pod({ status: { phase: 'Pending', containerStatuses: [container('app', { state: { waiting: { reason: 'ContainerCreating' } } })] } });
    expect(status(creating)).toBe('ContainerCreating');
  });

  it('shows Completed, Error, signals and exit codes of terminated containers', () => {
    const terminated = (state: { exitCode: number; reason?: string; signal?: number }): Pod =>
      pod({ status: { phase: 'Running', containerStatuses: [container('app', { state: { terminated: state } })] } });
    expect(status(terminated({ exitCode: 0, reason: 'Completed' }))).toBe('Completed');
    expect(status(terminated({ exitCode: 1, reason: 'Error' }))).toBe('Error');
    expect(status(terminated({ exitCode: 137, signal: 9 }))).toBe('Signal:9');
    expect(status(terminated({ exitCode: 2 }))).toBe('ExitCode:2');
  });

  it('shows Running (or NotReady) when one container completed and another still runs', () => {
    const mixed = (ready: boolean): Pod =>
      pod({
        spec: { containers: [{ name: 'job' }, { name: 'server' }] },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
          containerStatuses: [
            container('job', { state: { terminated: { exitCode: 0, reason: 'Completed' } } }),
            container('server', { ready: true, state: RUNNING }),
          ],
        },
      });
    expect(status(mixed(true))).toBe('Running');
    expect(status(mixed(false))).toBe('NotReady');
  });

  it('uses the first container when several disagree', () => {
    const both = pod({
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
      status: {
        phase: 'Pending',
        containerStatuses: [
          container('a', { state: { waiting: { reason: 'ImagePullBackOff' } } }),
          container('b', { state: { waiting: { reason: 'ContainerCreating' } } }),
        ],
      },
    });
    expect(status(both)).toBe('ImagePullBackOff');
  });

  describe('init containers', () => {
    const withInit = (statuses: ContainerStatus[], conditions: NonNullable<Pod['status']>['conditions'] = []): Pod =>
      pod({
        spec: { initContainers: [{ name: 'migrate' }, { name: 'seed' }] },
        status: {
          phase: 'Pending',
          conditions,
          initContainerStatuses: statuses,
          containerStatuses: [container('app', { state: { waiting: { reason: 'PodInitializing' } } })],
        },
      });

    it('counts finished init containers: Init:0/2, Init:1/2', () => {
      const waiting = { waiting: { reason: 'PodInitializing' } };
      expect(status(withInit([container('migrate', { state: RUNNING }), container('seed', { state: waiting })]))).toBe('Init:0/2');
      const done = { terminated: { exitCode: 0, reason: 'Completed' } };
      expect(status(withInit([container('migrate', { state: done }), container('seed', { state: RUNNING })]))).toBe('Init:1/2');
    });

    it('shows a failing init container', () => {
      const failed = { terminated: { exitCode: 1, reason: 'Error' } };
      expect(status(withInit([container('migrate', { state: failed })]))).toBe('Init:Error');
      expect(status(withInit([container('migrate', { state: { terminated: { exitCode: 3 } } })]))).toBe('Init:ExitCode:3');
      const backoff = { waiting: { reason: 'CrashLoopBackOff' } };
      expect(status(withInit([container('migrate', { state: backoff, restartCount: 4 })]))).toBe('Init:CrashLoopBackOff');
    });

    it('counts init restarts while initializing', () => {
      const backoff = { waiting: { reason: 'CrashLoopBackOff' } };
      const lastState = { terminated: { exitCode: 1, finishedAt: ago(30) } };
      expect(row(withInit([container('migrate', { state: backoff, restartCount: 4, lastState })]))['RESTARTS']).toBe('4 (30s ago)');
    });

    it('counts a started sidecar as a ready container', () => {
      const sidecar = pod({
        spec: { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Initialized', status: 'True' }],
          initContainerStatuses: [container('proxy', { started: true, ready: true, restartCount: 1, state: RUNNING })],
          containerStatuses: [container('app', { ready: true, state: RUNNING })],
        },
      });
      expect(row(sidecar)).toMatchObject({ READY: '2/2', STATUS: 'Running', RESTARTS: '1' });
    });
  });

  it('shows Terminating while a live pod is being deleted', () => {
    const deleting = pod({ deletionTimestamp: ago(5), status: { phase: 'Running', containerStatuses: [container('app', { ready: true, state: RUNNING })] } });
    expect(status(deleting)).toBe('Terminating');
  });

  it('keeps the phase of a finished pod being deleted', () => {
    expect(status(pod({ deletionTimestamp: ago(5), status: { phase: 'Succeeded' } }))).toBe('Succeeded');
  });

  it('shows NodeLost, and Unknown once a lost pod is being deleted', () => {
    expect(status(pod({ status: { phase: 'Running', reason: 'NodeLost' } }))).toBe('NodeLost');
    expect(status(pod({ deletionTimestamp: ago(5), status: { phase: 'Running', reason: 'NodeLost' } }))).toBe('Unknown');
  });

  it('shows Evicted and SchedulingGated reasons', () => {
    expect(status(pod({ status: { phase: 'Failed', reason: 'Evicted' } }))).toBe('Evicted');
    const gated = pod({ status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] } });
    expect(status(gated)).toBe('SchedulingGated');
  });

  it('marks finished pods Completed in the row conditions', () => {
    expect(podPrinter.conditions?.(pod({ status: { phase: 'Succeeded' } }))).toEqual([
      { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
    ]);
    expect(podPrinter.conditions?.(pod({ status: { phase: 'Failed' } }))?.[0]?.reason).toBe('Failed');
    expect(podPrinter.conditions?.(pod({ status: { phase: 'Running' } }))).toBeUndefined();
  });

  it('prints nominated node and readiness gates', () => {
    const gated = pod({
      spec: { readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }] },
      status: { phase: 'Pending', nominatedNodeName: 'node-2', conditions: [{ type: 'example.com/lb', status: 'True' }] },
    });
    expect(row(gated)).toMatchObject({ 'NOMINATED NODE': 'node-2', 'READINESS GATES': '1/2' });
  });
});
