import { describe, expect, it } from 'vitest';
import { schedulerBenchCommand, schedulerModeFrom, schedulerOptionsFrom } from './scheduler_command.js';
import { checkSchedulerOptions, DEFAULT_SCHEDULER_OPTIONS } from './scheduler_options.js';

function parse(argv: string[]): Record<string, unknown> {
  const command = schedulerBenchCommand().exitOverride().action(() => undefined);
  command.parse(argv, { from: 'user' });
  return command.opts();
}

describe('k8ts bench scheduler flags', () => {
  it("default to the issue's shape: SchedulingBasic, 5000 nodes of node-default.yaml, 10000 pods", () => {
    const options = schedulerOptionsFrom(parse([]));
    expect(options).toEqual(DEFAULT_SCHEDULER_OPTIONS);
    expect(options).toMatchObject({ workload: 'SchedulingBasic', nodes: 5000, pods: 10_000, nodeCpu: '4', nodeMemory: '32Gi', nodePods: 110, zones: 10 });
    expect(() => checkSchedulerOptions(options)).not.toThrow();
    expect(schedulerModeFrom(parse([]))).toEqual({ kind: 'start', members: 3, store: 'k8ts' });
  });

  it('take a workload, the node shape, etcd, a scheduler config, or a running server', () => {
    const flags = parse(['--workload', 'Preemption', '--nodes', '50', '--pods', '20', '--node-cpu', '8', '--zones', '3', '--store', 'etcd', '--scheduler-config', '/tmp/c.yaml']);
    expect(schedulerOptionsFrom(flags)).toMatchObject({ workload: 'Preemption', nodes: 50, pods: 20, nodeCpu: '8', zones: 3, schedulerConfig: '/tmp/c.yaml' });
    expect(schedulerModeFrom(flags)).toEqual({ kind: 'start', members: 3, store: 'etcd' });
    expect(schedulerModeFrom(parse(['--server', 'http://h:8080', '--grpc', 'h:9090']))).toEqual({ kind: 'server', url: 'http://h:8080', grpc: 'h:9090' });
  });

  it('refuse unknown workloads, non-integers, a lone --server, and out-of-range options', () => {
    expect(() => parse(['--workload', 'Gang'])).toThrow(/Allowed choices/);
    expect(() => parse(['--nodes', '2.5'])).toThrow(/integer/);
    expect(() => schedulerModeFrom(parse(['--server', 'http://h:8080']))).toThrow(/go together/);
    expect(() => checkSchedulerOptions(schedulerOptionsFrom(parse(['--nodes', '0'])))).toThrow(/--nodes 0/);
    expect(() => checkSchedulerOptions(schedulerOptionsFrom(parse(['--node-memory', 'lots'])))).toThrow(/--node-memory lots/);
    expect(() => checkSchedulerOptions(schedulerOptionsFrom(parse(['--node-cpu', '0'])))).toThrow(/more than 0/);
  });
});
