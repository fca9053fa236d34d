import { describe, expect, test } from 'vitest';
import { addStage, planCluster, planParts } from './launch_plan.js';

const plan = planCluster({ dir: '/tmp/c', basePort: 30000, controlIp: '127.0.0.1', natsServer: '/usr/sbin/nats-server', agents: () => [] });

describe('planCluster', () => {
  test('stages in start order, the store members with their client URLs, the kubeconfig on the API load balancer', () => {
    expect(plan.stages.map((stage) => stage.title)).toEqual(['nats', 'store', 'apiservers', 'api-lb', 'components', 'nodes']);
    expect(planParts(plan).map((part) => part.name)).toEqual([
      'nats-server', 'store-1', 'store-2', 'store-3', 'apiserver-1', 'apiserver-2', 'api-lb',
      'scheduler-1', 'scheduler-2', 'controller-manager-1', 'controller-manager-2',
    ]);
    expect(planParts(plan).filter((part) => part.clientUrl !== undefined).map((part) => part.clientUrl)).toEqual([
      'http://127.0.0.1:30001', 'http://127.0.0.1:30002', 'http://127.0.0.1:30003',
    ]);
    expect(plan.kubeconfigServer).toBe('http://127.0.0.1:30020');
    const lb = planParts(plan).find((part) => part.name === 'api-lb');
    expect(lb?.args).toEqual(expect.arrayContaining(['--backends', '127.0.0.1:30021,127.0.0.1:30022']));
  });
});

describe('addStage', () => {
  const lb = { title: 'extra', parts: [{ name: 'extra', binary: 'k8ts-extra', args: [], healthUrl: 'http://127.0.0.1:30071/healthz' }] };

  test('puts a stage right after the one named, and may point the kubeconfig at it', () => {
    const withLb = addStage(plan, lb, 'apiservers', 'http://127.0.0.1:30070');
    expect(withLb.stages.map((stage) => stage.title)).toEqual(['nats', 'store', 'apiservers', 'extra', 'api-lb', 'components', 'nodes']);
    expect(withLb.kubeconfigServer).toBe('http://127.0.0.1:30070');
    expect(plan.stages).toHaveLength(6); // the plan given is not changed
  });

  test('refuses an unknown stage to follow and a title twice', () => {
    expect(() => addStage(plan, lb, 'apiserver')).toThrow('no stage "apiserver" in the launch plan (nats, store, apiservers, api-lb, components, nodes)');
    expect(() => addStage(addStage(plan, lb, 'apiservers'), lb, 'store')).toThrow('the launch plan has a stage "extra" already');
  });
});
