import type { Event } from 'kubernetes-types/core/v1.js';
import { FIELD_DOCS } from './descriptions.js';
import { NAME_COLUMN, column } from './format.js';
import { timeSince } from './human_duration.js';
import type { Printer, TableCell } from './types.js';

/**
 * core/v1 Events: LAST SEEN TYPE REASON OBJECT MESSAGE | wide: SUBOBJECT SOURCE FIRST SEEN COUNT NAME.
 * The wide columns sit between the others (SUBOBJECT and SOURCE before MESSAGE), as upstream orders them.
 */
export const eventPrinter: Printer = {
  columns: [
    column('Last Seen', 'string', FIELD_DOCS.eventLastTimestamp),
    column('Type', 'string', FIELD_DOCS.eventType),
    column('Reason', 'string', FIELD_DOCS.eventReason),
    column('Object', 'string', FIELD_DOCS.eventInvolvedObject),
    column('Subobject', 'string', FIELD_DOCS.objectReferenceFieldPath, { wide: true }),
    column('Source', 'string', FIELD_DOCS.eventSource, { wide: true }),
    column('Message', 'string', FIELD_DOCS.eventMessage),
    column('First Seen', 'string', FIELD_DOCS.eventFirstTimestamp, { wide: true }),
    column('Count', 'string', FIELD_DOCS.eventCount, { wide: true }),
    { ...NAME_COLUMN, priority: 1 },
  ],
  cells: (object, now) => eventCells(object as Event, now),
};

function eventCells(event: Event, now: Date): TableCell[] {
  // Events written through events.k8s.io carry eventTime and series instead of the timestamps and count.
  const firstSeen = present(event.firstTimestamp)
    ? timeSince(event.firstTimestamp, now)
    : timeSince(event.eventTime, now);
  let lastSeen = present(event.lastTimestamp) ? timeSince(event.lastTimestamp, now) : firstSeen;
  let count = event.count ?? 0;
  if (event.series !== undefined) {
    lastSeen = timeSince(event.series.lastObservedTime, now);
    count = event.series.count ?? 0;
  } else if (count === 0) {
    count = 1;
  }
  return [
    lastSeen,
    event.type ?? '',
    event.reason ?? '',
    eventObject(event),
    event.involvedObject?.fieldPath ?? '',
    eventSource(event),
    (event.message ?? '').trim(),
    firstSeen,
    count,
    event.metadata?.name ?? '',
  ];
}

function present(timestamp: string | undefined): timestamp is string {
  return timestamp !== undefined && timestamp !== '';
}

/** "pod/web-1", or just "node" when the object has no name. */
function eventObject(event: Event): string {
  const kind = (event.involvedObject?.kind ?? '').toLowerCase();
  const name = event.involvedObject?.name ?? '';
  return name === '' ? kind : `${kind}/${name}`;
}

/** "kubelet, node-1": the source component and host, or the reporting controller and instance. */
function eventSource(event: Event): string {
  const component = firstNonEmpty(event.source?.component, event.reportingComponent);
  const instance = firstNonEmpty(event.source?.host, event.reportingInstance);
  return instance === '' ? component : `${component}, ${instance}`;
}

function firstNonEmpty(...values: (string | undefined)[]): string {
  return values.find((value) => value !== undefined && value !== '') ?? '';
}
