import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { describe, expect, test } from 'vitest';
import { replicaSetSelector } from './selector.js';

const rs: ReplicaSet = {
  metadata: { name: 'web', namespace: 'ns', uid: 'rs-uid' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' }, annotations: { note: 'n' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  },
};

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
