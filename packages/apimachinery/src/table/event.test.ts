import type { Event } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { eventPrinter } from './event.js';

const NOW = new Date('2025-01-01T12:00:00Z');

function event(fields: Partial<Event> = {}): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web-1.181a2b3c4d5e6f70', namespace: 'default', creationTimestamp: '2025-01-01T11:55:00Z' },
    involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', fieldPath: 'spec.containers{app}' },
    reason: 'BackOff',
    message: 'Back-off restarting failed container app\n',
    type: 'Warning',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: '2025-01-01T11:55:00Z',
    lastTimestamp: '2025-01-01T11:59:30Z',
    count: 7,
    ...fields,
  };
}

describe('event table', () => {
  it('puts the wide columns where upstream does', () => {
    expect(eventPrinter.columns.map((column) => `${column.name}${column.priority === 1 ? '*' : ''}`)).toEqual([
      'Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*', 'Name*',
    ]);
  });

  it('prints a repeated kubelet event', () => {
    expect(eventPrinter.cells(event(), NOW)).toEqual([
      '30s', 'Warning', 'BackOff', 'pod/web-1', 'spec.containers{app}', 'kubelet, node-1',
      'Back-off restarting failed container app', '5m', 7, 'web-1.181a2b3c4d5e6f70',
    ]);
  });

  it('falls back to eventTime, series and the reporting controller (events.k8s.io events)', () => {
    const modern = event({
      firstTimestamp: '',
      lastTimestamp: '',
      count: 0,
      eventTime: '2025-01-01T11:00:00.000000Z',
      series: { count: 4, lastObservedTime: '2025-01-01T11:58:00.000000Z' },
      source: {},
      reportingComponent: 'default-scheduler',
      reportingInstance: 'default-scheduler-k8ts-1',
      involvedObject: { kind: 'Node', name: '' },
    });
    expect(eventPrinter.cells(modern, NOW)).toEqual([
      '2m', 'Warning', 'BackOff', 'node', '', 'default-scheduler, default-scheduler-k8ts-1',
      'Back-off restarting failed container app', '60m', 4, 'web-1.181a2b3c4d5e6f70',
    ]);
  });

  it('counts a singleton event once and uses the first time as the last', () => {
    const single = event({ lastTimestamp: '', count: 0, source: { component: 'deployment-controller' } });
    const cells = eventPrinter.cells(single, NOW);
    expect([cells[0], cells[5], cells[8]]).toEqual(['5m', 'deployment-controller', 1]);
  });
});
