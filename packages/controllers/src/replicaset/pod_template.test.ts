import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { describe, expect, test } from 'vitest';
import { podFromTemplate, podNamePrefix } from './pod_template.js';
import { replicaSetSelector } from './selector.js';

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

describe('a ReplicaSet the controller cannot act on', () => {
  test('a good selector gives its requirements', () => {
    expect(replicaSetSelector(rs)).toMatchObject({ ok: true });
  });

  test('empty, unreadable, or not matching the template: refused with a reason, never acted on', () => {
    const withSelector = (selector: unknown, labels: Record<string, string> = { app: 'web' }): ReplicaSet =>
      ({ ...rs, spec: { ...rs.spec, selector, template: { ...rs.spec?.template, metadata: { labels } } } }) as ReplicaSet;
    expect(replicaSetSelector(withSelector(undefined))).toMatchObject({ ok: false, message: expect.stringContaining('empty selector') });
    expect(replicaSetSelector(withSelector({}))).toMatchObject({ ok: false });
    expect(replicaSetSelector(withSelector({ matchExpressions: [{ key: 'a', operator: 'Near' }] }))).toMatchObject({ ok: false, message: expect.stringContaining('not a valid label selector operator') });
    expect(replicaSetSelector(withSelector({ matchLabels: { app: 'db' } }))).toMatchObject({ ok: false, message: expect.stringContaining('`selector` does not match template `labels`') });
    expect(replicaSetSelector(withSelector({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, {}))).toMatchObject({ ok: false, message: 'unable to create pods, no labels' });
  });
});
