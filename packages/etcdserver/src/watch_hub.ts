import type { Event } from '@k8ts/mvcc';

/** What a watcher asks for (etcdserverpb.WatchCreateRequest, decoded). */
export interface WatchSpec {
  readonly key: Uint8Array;
  /** Empty: just `key`; [0]: every key >= key; otherwise [key, rangeEnd). */
  readonly rangeEnd: Uint8Array;
  /** 0: from the next revision on. Otherwise replay history from this revision. */
  readonly startRevision: number;
  readonly prevKv: boolean;
  readonly noPut: boolean;
  readonly noDelete: boolean;
}

/** History the hub replays from (the MVCC store). */
export interface WatchHistory {
  currentRevision(): number;
  compactRevision(): number;
  /** Events with revision >= start within [key, rangeEnd), in revision order. */
  eventsSince(startRevision: number, key: Uint8Array, rangeEnd: Uint8Array): Event[];
}

export interface WatchSink {
  /** Events for this watcher, all of one or more revisions, in order. */
  events(events: Event[]): void;
  /** The watch cannot start: its start revision is compacted. */
  compacted(compactRevision: number): void;
}

interface Watcher {
  readonly spec: WatchSpec;
  readonly sink: WatchSink;
}

/**
 * Every watch of this member. Live events reach watchers as the state machine applies them; a watch
 * from an old revision first replays history. Both happen inside one synchronous call, so no event
 * applied in between can be missed or sent twice.
 */
export class WatchHub {
  private readonly watchers = new Map<number, Watcher>();
  private nextId = 1;

  constructor(private readonly history: WatchHistory) {}

  /** Registers a watch; returns its hub id, or undefined when its start revision is compacted. */
  add(spec: WatchSpec, sink: WatchSink): number | undefined {
    const compacted = this.history.compactRevision();
    if (spec.startRevision > 0 && spec.startRevision < compacted) {
      sink.compacted(compacted);
      return undefined;
    }
    if (spec.startRevision > 0 && spec.startRevision <= this.history.currentRevision()) {
      const past = this.history.eventsSince(spec.startRevision, spec.key, spec.rangeEnd);
      const wanted = filterFor(spec, past);
      if (wanted.length > 0) sink.events(wanted);
    }
    const id = this.nextId++;
    this.watchers.set(id, { spec, sink });
    return id;
  }

  remove(id: number): void {
    this.watchers.delete(id);
  }

  size(): number {
    return this.watchers.size;
  }

  /** The latest revision: a watch from "now" starts after it. */
  currentRevision(): number {
    return this.history.currentRevision();
  }

  /** The events one applied write produced. */
  publish(events: readonly Event[]): void {
    if (events.length === 0 || this.watchers.size === 0) return;
    for (const { spec, sink } of this.watchers.values()) {
      const wanted = filterFor(spec, events);
      if (wanted.length > 0) sink.events(wanted);
    }
  }
}

function filterFor(spec: WatchSpec, events: readonly Event[]): Event[] {
  const wanted: Event[] = [];
  for (const event of events) {
    if (!inRange(event.kv.key, spec.key, spec.rangeEnd)) continue;
    if (spec.noPut && event.type === 'PUT') continue;
    if (spec.noDelete && event.type === 'DELETE') continue;
    if (!spec.prevKv && event.prevKv !== undefined) {
      wanted.push({ type: event.type, kv: event.kv });
    } else {
      wanted.push(event);
    }
  }
  return wanted;
}

export function inRange(key: Uint8Array, start: Uint8Array, end: Uint8Array): boolean {
  if (end.length === 0) return Buffer.compare(key, start) === 0;
  if (Buffer.compare(key, start) < 0) return false;
  if (end.length === 1 && end[0] === 0) return true;
  return Buffer.compare(key, end) < 0;
}
