import { describe, expect, it } from 'vitest';
import { RESOURCES, findResource, type ResourceType } from '../resources.js';
import { printerFor, toTable } from './table.js';

const NOW = new Date('2025-01-01T12:00:00Z');

function resource(group: string, name: string): ResourceType {
  const type = findResource(group, 'v1', name);
  if (type === undefined) throw new Error(`no resource ${group}/${name}`);
  return type;
}

const PODS = resource('', 'pods');
const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', uid: 'u-1', resourceVersion: '41', labels: { app: 'web' }, creationTimestamp: '2025-01-01T11:00:00Z' },
  spec: { containers: [{ name: 'app', image: 'nginx' }] },
  status: { phase: 'Succeeded' },
};

describe('toTable', () => {
  it('answers a meta.k8s.io/v1 Table with the list metadata', () => {
    const table = toTable(PODS, [POD], { now: NOW, includeObject: 'None', listMeta: { resourceVersion: '42', continue: 'abc', remainingItemCount: 3 } });
    expect(table).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '42', continue: 'abc', remainingItemCount: 3 } });
    expect(toTable(PODS, [], { now: NOW, includeObject: 'None', listMeta: { resourceVersion: '42', continue: '' } }).metadata).toEqual({ resourceVersion: '42' });
  });

  it('defines every column with name, type, format, description and priority', () => {
    const [name, ready] = toTable(PODS, [], { now: NOW, includeObject: 'None' }).columnDefinitions;
    expect(name).toMatchObject({ name: 'Name', type: 'string', format: 'name', priority: 0 });
    expect(name?.description).toMatch(/^Name must be unique within a namespace/);
    expect(ready).toEqual({ name: 'Ready', type: 'string', format: '', description: 'The aggregate readiness state of this pod for accepting traffic.', priority: 0 });
  });

  it('embeds nothing, the metadata, or the whole object as includeObject asks', () => {
    const rowFor = (includeObject: 'None' | 'Metadata' | 'Object') => toTable(PODS, [POD], { now: NOW, includeObject }).rows[0];
    expect(rowFor('None')).toEqual({
      cells: ['web-1', '0/1', 'Succeeded', '0', '60m', '<none>', '<none>', '<none>', '<none>'],
      conditions: [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }],
    });
    expect(rowFor('Metadata')?.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: POD.metadata });
    expect(rowFor('Object')?.object).toEqual(POD);
  });

  it('fills in apiVersion and kind of an embedded object that lacks them', () => {
    const { apiVersion: _apiVersion, kind: _kind, ...bare } = POD;
    const deployments = resource('apps', 'deployments');
    const row = toTable(deployments, [{ ...bare, spec: {} }], { now: NOW, includeObject: 'Object' }).rows[0];
    expect(row?.object).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment' });
  });

  it('has a printer with one cell per column for every served resource', () => {
    for (const type of RESOURCES) {
      const printer = printerFor(type);
      const cells = printer.cells({ metadata: { name: 'x' } }, NOW);
      expect(cells, type.resource).toHaveLength(printer.columns.length);
      expect(printer.columns.map((column) => column.name), type.resource).not.toEqual(['Name', 'Age']);
    }
  });

  it('prints NAME AGE for a resource with no printer of its own', () => {
    const widgets: ResourceType = { ...PODS, group: 'example.com', resource: 'widgets', kind: 'Widget' };
    const table = toTable(widgets, [{ metadata: { name: 'w', creationTimestamp: '2025-01-01T11:59:00Z' } }], { now: NOW, includeObject: 'None' });
    expect(table.columnDefinitions.map((column) => column.name)).toEqual(['Name', 'Age']);
    expect(table.rows[0]?.cells).toEqual(['w', '60s']);
  });
});
