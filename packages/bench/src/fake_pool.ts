import type { Event, PutRequest, PutResponse, RangeRequest, RangeResponse, WatchRequest, WatchResponse } from '@k8ts/proto';
import type { EtcdClientPool, WatchStream } from './etcd_client.js';

/**
 * An in-memory stand-in for an etcd cluster behind an EtcdClientPool, for unit tests of the
 * benchmark's checks. It behaves like etcd unless told to break a promise (`faults`), so a test can
 * show that the benchmark notices.
 */
export interface FakeFaults {
  /** Linearizable ranges answer from revision 1 with no keys, as a lagging follower would. */
  staleLinearizableReads?: boolean;
  /** Every put is acknowledged at the same revision. */
  frozenPutRevision?: boolean;
  /** The watcher with this number (order of creation) never gets the event of this put index. */
  dropEvent?: { watcher: number; putNumber: number };
  /** The event of this put number reaches every watcher twice. */
  duplicateEventOfPut?: number;
}

interface StoredValue {
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
}

type Listener = (response: WatchResponse) => void;

class FakeWatchStream implements WatchStream {
  private readonly dataListeners: Listener[] = [];
  readonly watchIds: number[] = [];
  ended = false;

  constructor(private readonly pool: FakePool) {}

  on(event: 'data' | 'error', listener: Listener | ((error: Error) => void)): this {
    if (event === 'data') this.dataListeners.push(listener as Listener);
    return this;
  }

  write(request: WatchRequest): boolean {
    if (request.create_request) {
      const id = this.pool.registerWatcher(this);
      this.watchIds.push(id);
      queueMicrotask(() => this.emit(response({ watch_id: String(id), created: true })));
    }
    return true;
  }

  emit(message: WatchResponse): void {
    if (this.ended) return;
    for (const listener of this.dataListeners) listener(message);
  }

  end(): void {
    this.ended = true;
  }

  cancel(): void {
    this.ended = true;
  }
}

export class FakePool implements EtcdClientPool {
  private revision = 1;
  private readonly data = new Map<string, StoredValue>();
  private readonly watchers: { id: number; stream: FakeWatchStream }[] = [];
  private putNumber = 0;

  constructor(private readonly faults: FakeFaults = {}) {}

  connectionFor(client: number): { endpoint: string } {
    return { endpoint: `fake:${client}` };
  }

  registerWatcher(stream: FakeWatchStream): number {
    const id = this.watchers.length;
    this.watchers.push({ id, stream });
    return id;
  }

  async put(_client: number, request: Partial<PutRequest>): Promise<PutResponse> {
    const key = Buffer.from(request.key ?? Buffer.alloc(0));
    const value = Buffer.from(request.value ?? Buffer.alloc(0));
    if (!this.faults.frozenPutRevision || this.revision === 1) this.revision += 1;
    const previous = this.data.get(key.toString('latin1'));
    const stored: StoredValue = {
      value,
      createRevision: previous?.createRevision ?? this.revision,
      modRevision: this.revision,
      version: (previous?.version ?? 0) + 1,
    };
    this.data.set(key.toString('latin1'), stored);
    const putNumber = this.putNumber;
    this.putNumber += 1;
    const event: Event = { type: 'PUT', kv: keyValue(key, stored), prev_kv: null };
    await Promise.resolve();
    for (const watcher of this.watchers) {
      const drop = this.faults.dropEvent;
      if (drop && drop.watcher === watcher.id && drop.putNumber === putNumber) continue;
      const copies = this.faults.duplicateEventOfPut === putNumber ? 2 : 1;
      for (let i = 0; i < copies; i += 1) watcher.stream.emit(response({ watch_id: String(watcher.id), events: [event] }));
    }
    return { header: header(this.revision), prev_kv: null };
  }

  async range(_client: number, request: Partial<RangeRequest>): Promise<RangeResponse> {
    await Promise.resolve();
    if (this.faults.staleLinearizableReads && request.serializable !== true) {
      return { header: header(1), kvs: [], more: false, count: '0' };
    }
    const key = Buffer.from(request.key ?? Buffer.alloc(0));
    const stored = this.data.get(key.toString('latin1'));
    return { header: header(this.revision), kvs: stored ? [keyValue(key, stored)] : [], more: false, count: stored ? '1' : '0' };
  }

  watchStream(): WatchStream {
    return new FakeWatchStream(this);
  }
}

function header(revision: number): WatchResponse['header'] {
  return { cluster_id: '1', member_id: '1', revision: String(revision), raft_term: '2' };
}

function keyValue(key: Buffer, stored: StoredValue): NonNullable<Event['kv']> {
  return {
    key,
    value: stored.value,
    create_revision: String(stored.createRevision),
    mod_revision: String(stored.modRevision),
    version: String(stored.version),
    lease: '0',
  };
}

function response(fields: Partial<WatchResponse>): WatchResponse {
  return {
    header: header(0),
    watch_id: '0',
    created: false,
    canceled: false,
    compact_revision: '0',
    cancel_reason: '',
    fragment: false,
    events: [],
    ...fields,
  };
}
