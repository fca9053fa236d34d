import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { describe, expect, it } from 'vitest';
import { deploymentPrinter, replicaSetPrinter } from './workloads.js';

const NOW = new Date('2025-01-01T12:00:00Z');
const TEMPLATE = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [
      { name: 'nginx', image: 'nginx:1.27' },
      { name: 'sidecar', image: 'busybox:1.36' },
    ],
  },
};

describe('deployment table', () => {
  const deployment: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: '2025-01-01T11:50:00Z' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: TEMPLATE },
    status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  };

  it('prints READY as ready/desired, then the wide containers, images and selector', () => {
    expect(deploymentPrinter.columns.map((column) => column.name)).toEqual([
      'Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector',
    ]);
    expect(deploymentPrinter.cells(deployment, NOW)).toEqual([
      'web', '2/3', 3, 2, '10m', 'nginx,sidecar', 'nginx:1.27,busybox:1.36', 'app=web',
    ]);
  });

  it('prints 0/N for a new deployment with no status', () => {
    const fresh: Deployment = { ...deployment, status: {} };
    expect(deploymentPrinter.cells(fresh, NOW).slice(1, 4)).toEqual(['0/3', 0, 0]);
  });

  it('prints match expressions sorted by key', () => {
    const selector = {
      matchLabels: { tier: 'front' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'canary'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'app', operator: 'Exists' },
      ],
    };
    const cells = deploymentPrinter.cells({ ...deployment, spec: { ...deployment.spec, selector } } as Deployment, NOW);
    expect(cells[7]).toBe('app,env in (canary,prod),!legacy,tier=front');
  });
});

describe('replicaset table', () => {
  const replicaSet: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-7d9f8c6b5d', namespace: 'default', creationTimestamp: '2025-01-01T09:00:00Z' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '7d9f8c6b5d' } }, template: TEMPLATE },
    status: { replicas: 3, readyReplicas: 1 },
  };

  it('prints desired, current and ready as integers', () => {
    expect(replicaSetPrinter.cells(replicaSet, NOW)).toEqual([
      'web-7d9f8c6b5d', 3, 3, 1, '3h', 'nginx,sidecar', 'nginx:1.27,busybox:1.36', 'app=web,pod-template-hash=7d9f8c6b5d',
    ]);
  });

  it('prints <none> for an empty selector and <error> for an invalid one', () => {
    const withSelector = (selector: object): ReplicaSet => ({ ...replicaSet, spec: { ...replicaSet.spec, selector } }) as ReplicaSet;
    expect(replicaSetPrinter.cells(withSelector({}), NOW)[7]).toBe('<none>');
    expect(replicaSetPrinter.cells(withSelector({ matchExpressions: [{ key: 'a', operator: 'Near' }] }), NOW)[7]).toBe('<error>');
  });
});
