import type { Event } from '@k8ts/mvcc';
import type { ResponseHeader } from './server.js';
import type { WatchHub, WatchSink, WatchSpec } from './watch_hub.js';
import { watchResponseBytes } from './watch_response_size.js';
import { encodeWatchEvents } from './watch_encoding.js';

type Wire = Record<string, unknown>;

/** What a watch stream needs of its member: response headers and the member's watches. */
export interface WatchBackend {
  header(): ResponseHeader;
  readonly watches: WatchHub;
}

/** etcd's watchBatchMaxRevs: the most revisions one response carries to a watch. */
const MAX_REVISIONS_PER_RESPONSE = 1000;

interface StreamWatch {
  readonly spec: WatchSpec;
  readonly progressNotify: boolean;
  /** The hub's id while the watch takes live events; undefined while it has to catch up. */
  hubId: number | undefined;
  /** The first revision the client has not been sent. */
  nextRevision: number;
}

/**
 * The watches of one etcdserverpb.Watch stream, and what the stream holds unsent.
 *
 * A consumer that stops reading must not make the member buffer without bound. etcd 3.4 keeps
 * such a watcher rather than cancelling it: its events stay in the MVCC history, the watcher moves
 * to the "unsynced" set, and once the client reads again it is caught up from history, 1,000
 * revisions a response, then fed live again. The same here: once the encoded responses the stream
 * holds unsent pass `maxUnsentBytes`, every watch of the stream leaves the live path and remembers
 * the first revision it has not been sent; when half of that has drained, each replays history
 * from there and goes live again (the hub does both in one step, so nothing is missed or sent twice).
 * Were its history compacted meanwhile, the watch ends as etcd ends it: cancelled with the
 * compact revision, which clients answer by listing again.
 */
export class WatchStream {
  private readonly watches = new Map<number, StreamWatch>();
  private nextWatchId = 0;
  private unsentBytes = 0;
  private behind = false;
  private closed = false;

  constructor(
    private readonly backend: WatchBackend,
    /** Writes a response; `sent` runs once it has left the stream's buffers. */
    private readonly write: (response: Wire | Buffer, sent: () => void) => void,
    private readonly maxUnsentBytes: number,
  ) {}

  /** `requestedId` 0: the stream picks one. */
  create(requestedId: number, spec: WatchSpec, progressNotify: boolean): void {
    let watchId = requestedId;
    if (watchId === 0) {
      while (this.watches.has(this.nextWatchId)) this.nextWatchId++;
      watchId = this.nextWatchId++;
    } else if (this.watches.has(watchId)) {
      this.send({ header: this.backend.header(), watch_id: -1, created: true, canceled: true, cancel_reason: 'mvcc: duplicate watch ID provided on the WatchStream' });
      return;
    }
    const nextRevision = spec.startRevision > 0 ? spec.startRevision : this.backend.watches.currentRevision() + 1;
    const watch: StreamWatch = { spec, progressNotify, hubId: undefined, nextRevision };
    this.watches.set(watchId, watch);
    this.send({ header: this.backend.header(), watch_id: watchId, created: true });
    if (!this.behind) this.goLive(watchId, watch);
  }

  cancel(watchId: number): void {
    const watch = this.watches.get(watchId);
    if (watch?.hubId !== undefined) this.backend.watches.remove(watch.hubId);
    this.watches.delete(watchId);
    this.send({ header: this.backend.header(), watch_id: watchId, canceled: true });
  }

  /** The periodic progress notification, to watches that asked for it and have been sent everything. */
  notifyProgress(): void {
    for (const [watchId, watch] of this.watches) {
      if (watch.progressNotify && watch.hubId !== undefined) this.send({ header: this.backend.header(), watch_id: watchId });
    }
  }

  /**
   * A progress request: the answer (watch id -1, for every watch of the stream) says each has been
   * sent all events up to its header's revision. etcd 3.4 answers at once; while some watch here
   * is catching up that would be false, so then — as etcd 3.5 does — no answer is sent.
   */
  requestProgress(): void {
    for (const watch of this.watches.values()) if (watch.hubId === undefined) return;
    this.send({ header: this.backend.header(), watch_id: -1 });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const watch of this.watches.values()) if (watch.hubId !== undefined) this.backend.watches.remove(watch.hubId);
    this.watches.clear();
  }

  /** Replays what the watch has not been sent, then keeps it on the live path. */
  private goLive(watchId: number, watch: StreamWatch): void {
    const hubId = this.backend.watches.add({ ...watch.spec, startRevision: watch.nextRevision }, this.sinkFor(watchId, watch));
    if (hubId === undefined) return; // compacted: answered and forgotten
    // The replay itself may have put the stream behind (or the watch was cancelled meanwhile).
    if (this.behind || this.watches.get(watchId) !== watch) this.backend.watches.remove(hubId);
    else watch.hubId = hubId;
  }

  private sinkFor(watchId: number, watch: StreamWatch): WatchSink {
    return {
      events: (events) => this.sendEvents(watchId, watch, events),
      compacted: (compactRevision) => {
        this.watches.delete(watchId);
        this.send({
          header: this.backend.header(),
          watch_id: watchId,
          canceled: true,
          compact_revision: compactRevision,
          cancel_reason: 'mvcc: required revision has been compacted',
        });
      },
    };
  }

  /**
   * Sends the events from the watch's next revision on, whole revisions to a response. Once the
   * stream is behind, the rest is left to be read from history when it catches up.
   */
  private sendEvents(watchId: number, watch: StreamWatch, events: readonly Event[]): void {
    let batch: Event[] = [];
    let revisions = 0;
    for (const event of events) {
      const revision = event.kv.modRevision;
      if (revision < watch.nextRevision) continue;
      if (revision !== batch.at(-1)?.kv.modRevision) {
        if (revisions === MAX_REVISIONS_PER_RESPONSE) {
          this.sendBatch(watchId, watch, batch);
          [batch, revisions] = [[], 0];
        }
        if (this.behind) return;
        revisions++;
      }
      batch.push(event);
    }
    if (batch.length > 0) this.sendBatch(watchId, watch, batch);
  }

  private sendBatch(watchId: number, watch: StreamWatch, batch: readonly Event[]): void {
    watch.nextRevision = (batch.at(-1) as Event).kv.modRevision + 1;
    this.send(encodeWatchEvents(this.backend.header(), watchId, batch));
  }

  /** A response as objects, or (events) already encoded: the Watch method's serializer passes Buffers on. */
  private send(response: Wire | Buffer): void {
    if (this.closed) return;
    const bytes = Buffer.isBuffer(response) ? response.length : watchResponseBytes(response);
    this.unsentBytes += bytes;
    this.write(response, () => this.sent(bytes));
    if (this.unsentBytes > this.maxUnsentBytes) this.fallBehind();
  }

  private sent(bytes: number): void {
    this.unsentBytes -= bytes;
    if (this.behind && !this.closed && this.unsentBytes <= this.maxUnsentBytes / 2) this.catchUp();
  }

  private fallBehind(): void {
    if (this.behind) return;
    this.behind = true;
    for (const watch of this.watches.values()) {
      if (watch.hubId !== undefined) this.backend.watches.remove(watch.hubId);
      watch.hubId = undefined;
    }
  }

  private catchUp(): void {
    this.behind = false;
    for (const [watchId, watch] of this.watches) {
      if (this.behind) return;
      if (watch.hubId === undefined) this.goLive(watchId, watch);
    }
  }
}
