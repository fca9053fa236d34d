import { describe, expect, it } from 'vitest';
import { loopbackNodeIp, nodeNetworkName, nodeSubnet, planAgents } from './cluster_nodes.js';

const base = { dir: '/tmp/c', basePort: 32300, grpcApis: ['10.0.0.1:32331'], natsUrl: 'nats://10.0.0.1:32360', simulatedNodes: 0 };
const flag = (args: readonly string[], name: string): string | undefined => args[args.indexOf(name) + 1];

describe('planAgents', () => {
  it('puts nodes without a node host on loopback addresses of their own, each with its own bridge', () => {
    const plans = planAgents({ ...base, nodes: 2, placement: (index) => ({ ip: loopbackNodeIp(index), enter: [] }) });
    expect(plans.map((plan) => [plan.name, flag(plan.args, '--node-ip'), flag(plan.args, '--healthz-bind-address'), flag(plan.args, '--address'), flag(plan.args, '--pod-bridge')])).toEqual([
      ['node-1', '127.0.1.1', '127.0.1.1', '127.0.1.1', 'k8b32300n1'],
      ['node-2', '127.0.1.2', '127.0.1.2', '127.0.1.2', 'k8b32300n2'],
    ]);
    expect(plans[0]!.healthUrl).toBe('http://127.0.1.1:32402/healthz');
    expect(plans.every((plan) => plan.enter.length === 0)).toBe(true);
  });

  it('runs a node in its host: the host’s address, its enter prefix, the default bridge; simulated nodes stay on 127.0.0.1', () => {
    const enter = ['ip', 'netns', 'exec', 'k8tsn32300-node-1'];
    const plans = planAgents({ ...base, nodes: 1, simulatedNodes: 3, placement: () => ({ ip: '172.30.50.2', enter }) });
    expect(plans[0]).toMatchObject({ name: 'node-1', enter, healthUrl: 'http://172.30.50.2:32402/healthz' });
    expect(flag(plans[0]!.args, '--node-ip')).toBe('172.30.50.2');
    expect(plans[0]!.args).not.toContain('--pod-bridge');
    expect(plans[1]).toMatchObject({ name: 'simulated-nodes', enter: [], nodeNames: ['sim-0', 'sim-1', 'sim-2'] });
    expect(flag(plans[1]!.args, '--node-ip')).toBe('127.0.0.1');
  });

  it('names the node hosts’ bridge and subnet after the base port', () => {
    expect(nodeNetworkName(32300)).toBe('k8tsn32300');
    expect(nodeSubnet(32300)).toBe('172.30.50.0/24');
  });
});
