import { describe, expect, test } from 'vitest';
import { addStage, planCluster, planParts } from './launch_plan.js';

const plan = planCluster({ dir: '/tmp/c', basePort: 30000, controlIp: '127.0.0.1', natsServer: '/usr/sbin/nats-server', agents: () => [] });

describe('planCluster', () => {
  test('stages in start order, the store members with their client URLs, the kubeconfig on the API load balancer', () => {
    expect(plan.stages.map((stage) => stage.title)).toEqual(['nats', 'store', 'apiservers', 'api-lb', 'components', 'nodes']);
    // Only the API servers wait for what comes before them (NATS and the store); everything after waits for them alone.
    expect(plan.stages.map((stage) => stage.withPrevious === true)).toEqual([false, true, false, false, true, true]);
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

describe('planCluster with store hosts', () => {
  const hosts = ['172.30.9.5', '172.30.9.6', '172.30.9.7'];
  const placed = planCluster({
    dir: '/tmp/c',
    basePort: 30000,
    controlIp: '172.30.9.1',
    natsServer: '/usr/sbin/nats-server',
    agents: () => [],
    storePlacement: (index) => ({ ip: hosts[index - 1] as string, enter: ['ip', 'netns', 'exec', `k8tsn30000-store-${index}`] }),
  });
  const stores = planParts(placed).filter((part) => part.name.startsWith('store-'));

  test('each member listens and advertises on its host\'s address, is started inside it, and the API servers dial those addresses', () => {
    expect(stores.map((part) => part.clientUrl)).toEqual(['http://172.30.9.5:30001', 'http://172.30.9.6:30002', 'http://172.30.9.7:30003']);
    expect(stores.map((part) => part.enter)).toEqual([1, 2, 3].map((i) => ['ip', 'netns', 'exec', `k8tsn30000-store-${i}`]));
    expect(stores[1]?.args).toEqual(expect.arrayContaining([
      '--listen-peer-urls', 'http://172.30.9.6:30012',
      '--initial-cluster', 'store-1=http://172.30.9.5:30011,store-2=http://172.30.9.6:30012,store-3=http://172.30.9.7:30013',
    ]));
    expect(stores[0]?.healthUrl).toBe('http://172.30.9.5:30001/health');
    const apiserver = planParts(placed).find((part) => part.name === 'apiserver-1');
    expect(apiserver?.args).toEqual(expect.arrayContaining(['--etcd-servers', '172.30.9.5:30001,172.30.9.6:30002,172.30.9.7:30003']));
    // Without placement the members stay on this namespace's loopback, started as they are.
    expect(planParts(plan).filter((part) => part.name.startsWith('store-')).every((part) => part.enter === undefined)).toBe(true);
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
