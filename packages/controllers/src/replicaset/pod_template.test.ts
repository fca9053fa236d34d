import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { describe, expect, test } from 'vitest';
import { podFromTemplate, podNamePrefix } from './pod_template.js';

const rs: ReplicaSet = {
  metadata: { name: 'web', namespace: 'ns', uid: 'rs-uid' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' }, annotations: { note: 'n' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  },
};

describe('the pod made from the template (upstream GetPodFromTemplate)', () => {
  test('generateName <rs>-, template labels and annotations, controller owner reference, the spec', () => {
    expect(podFromTemplate(rs)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: 'web-',
        namespace: 'ns',
        labels: { app: 'web' },
        annotations: { note: 'n' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }],
      },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    });
    expect(podNamePrefix('x'.repeat(253))).toBe('x'.repeat(253));
  });
});
