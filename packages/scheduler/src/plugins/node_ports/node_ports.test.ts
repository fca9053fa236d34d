import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { CycleState } from '../../framework/cycle_state.js';
import type { Handle } from '../../framework/interfaces.js';
import type { HostPort, NodeInfo } from '../../framework/node_info.js';
import { Code } from '../../framework/status.js';
import { node, pod } from '../../testing/builders.js';
import { NAME, NodePorts, factory, hostPortConflicts } from './index.js';

const plugin = new NodePorts();

function run(target: Pod, info: NodeInfo) {
  const state = new CycleState();
  const { status } = plugin.preFilter(state, target);
  if (status.isSkip()) return status;
  return plugin.filter(state, target, info);
}

describe('hostPortConflicts', () => {
  const at = (ip: string, port: number, protocol = 'TCP'): HostPort => ({ ip, port, protocol });
  it.each<[string, HostPort, HostPort, boolean]>([
    ['same IP, protocol and port', at('10.0.0.1', 80), at('10.0.0.1', 80), true],
    ['0.0.0.0 in use blocks a specific IP', at('0.0.0.0', 80), at('10.0.0.1', 80), true],
    ['a specific IP in use blocks 0.0.0.0', at('10.0.0.1', 80), at('0.0.0.0', 80), true],
    ['0.0.0.0 against 0.0.0.0', at('0.0.0.0', 80), at('0.0.0.0', 80), true],
    ['two different specific IPs', at('10.0.0.1', 80), at('10.0.0.2', 80), false],
    ['another protocol', at('0.0.0.0', 53, 'UDP'), at('0.0.0.0', 53, 'TCP'), false],
    ['another port', at('0.0.0.0', 80), at('0.0.0.0', 81), false],
    ['an empty IP binds all', at('', 80), at('10.0.0.1', 80), true],
    ['an empty protocol is TCP', at('0.0.0.0', 80, ''), at('0.0.0.0', 80, 'TCP'), true],
  ])('%s: %s', (_name, used, wanted, conflict) => {
    expect(hostPortConflicts([used], wanted)).toBe(conflict);
  });

  it('never reports port 0 (no host port)', () => {
    expect(hostPortConflicts([at('0.0.0.0', 0)], at('0.0.0.0', 0))).toBe(false);
  });
});

describe('NodePorts', () => {
  const busy = node('n1').info(pod('web').hostPort(8080).build(), pod('dns').hostPort(53, 'UDP', '10.0.0.1').build());

  it('skips a pod without host ports', () => {
    expect(plugin.preFilter(new CycleState(), pod('p').build()).status.isSkip()).toBe(true);
  });

  it('admits a pod whose ports are free', () => {
    expect(run(pod('p').hostPort(9090).build(), busy).isSuccess()).toBe(true);
    expect(run(pod('p').hostPort(53, 'UDP', '10.0.0.2').build(), busy).isSuccess()).toBe(true);
    expect(run(pod('p').hostPort(8080, 'UDP').build(), busy).isSuccess()).toBe(true);
  });

  it('rejects a node where a port is taken, as resolvable by preemption', () => {
    const status = run(pod('p').hostPort(9090).hostPort(8080, 'TCP', '192.168.1.1').build(), busy);
    expect(status.code).toBe(Code.Unschedulable);
    expect(status.reasons).toEqual(["node(s) didn't have free ports for the requested pod ports"]);
    expect(run(pod('p').hostPort(53, 'UDP').build(), busy).code).toBe(Code.Unschedulable);
  });

  it('sees ports freed when the holding pod leaves', () => {
    const info = busy.clone();
    info.removePod(pod('web').build());
    expect(run(pod('p').hostPort(8080).build(), info).isSuccess()).toBe(true);
  });

  it('is built by its factory under its upstream name and requeues on pod deletion', () => {
    const built = factory({}, {} as Handle) as NodePorts;
    expect([NAME, built.name]).toEqual(['NodePorts', 'NodePorts']);
    expect(built.eventsToRegister()).toContainEqual({ resource: 'Pod', action: 'Delete' });
    expect(built.eventsToRegister()).toContainEqual({ resource: 'Node', action: 'Add' });
  });
});
