import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { Indexer, Lister, objectKey, splitKey } from './indexer.js';

const pod = (namespace: string, name: string, node: string | undefined, labels: Record<string, string> = {}): Pod => ({
  metadata: { namespace, name, labels },
  spec: { containers: [], ...(node === undefined ? {} : { nodeName: node }) },
});

const byNode = (object: Pod): string[] => (object.spec?.nodeName ? [object.spec.nodeName] : []);

describe('Indexer', () => {
  test('keys are namespace/name, or name for cluster-scoped objects', () => {
    expect(objectKey(pod('default', 'web', undefined))).toBe('default/web');
    expect(objectKey({ metadata: { name: 'node-1' } })).toBe('node-1');
    expect(splitKey('default/web')).toEqual({ namespace: 'default', name: 'web' });
    expect(splitKey('node-1')).toEqual({ namespace: undefined, name: 'node-1' });
  });

  test('a custom index follows adds, updates that move an object, and deletes', () => {
    const indexer = new Indexer<Pod>({ byNode });
    indexer.upsert(pod('default', 'a', 'n1'));
    indexer.upsert(pod('default', 'b', 'n1'));
    indexer.upsert(pod('other', 'c', undefined));
    expect(indexer.byIndex('byNode', 'n1').map(objectKey).sort()).toEqual(['default/a', 'default/b']);

    const previous = indexer.upsert(pod('default', 'b', 'n2'));
    expect(previous?.spec?.nodeName).toBe('n1');
    expect(indexer.byIndex('byNode', 'n1').map(objectKey)).toEqual(['default/a']);
    expect(indexer.byIndex('byNode', 'n2').map(objectKey)).toEqual(['default/b']);

    expect(indexer.delete(pod('default', 'a', 'n1'))?.metadata?.name).toBe('a');
    expect(indexer.byIndex('byNode', 'n1')).toEqual([]);
    expect(indexer.indexValues('byNode')).toEqual(['n2']);
    expect(indexer.size).toBe(2);
    expect(() => indexer.byIndex('missing', 'x')).toThrow(/no index named missing/);
  });

  test('an index added later covers objects already stored', () => {
    const indexer = new Indexer<Pod>();
    indexer.upsert(pod('default', 'a', 'n1'));
    indexer.addIndexers({ byNode });
    expect(indexer.byIndex('byNode', 'n1').map(objectKey)).toEqual(['default/a']);
    expect(() => indexer.addIndexers({ byNode })).toThrow(/already exists/);
  });

  test('a lister reads by namespace, name and label selector', () => {
    const indexer = new Indexer<Pod>({ byNode });
    indexer.upsert(pod('default', 'web-1', 'n1', { app: 'web' }));
    indexer.upsert(pod('default', 'db-1', 'n1', { app: 'db' }));
    indexer.upsert(pod('other', 'web-2', 'n2', { app: 'web' }));
    const lister = new Lister(indexer);
    expect(lister.list('app=web').map(objectKey).sort()).toEqual(['default/web-1', 'other/web-2']);
    expect(lister.namespace('default').list().map(objectKey).sort()).toEqual(['default/db-1', 'default/web-1']);
    expect(lister.namespace('default').list('app!=web').map(objectKey)).toEqual(['default/db-1']);
    expect(lister.namespace('other').get('web-2')?.spec?.nodeName).toBe('n2');
    expect(lister.get('web-2', 'default')).toBeUndefined();
    expect(lister.namespace('default').byIndex('byNode', 'n1')).toHaveLength(2);
    expect(lister.namespace('other').byIndex('byNode', 'n1')).toHaveLength(0);
  });
});
