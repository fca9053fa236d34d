/** Decides, before each WAL fdatasync, whether it runs on the calling (main) thread or in libuv's pool. */
export interface SyncThreadGate {
  /** True: run this fdatasync on the calling thread. */
  onCallingThread(): boolean;
  /** Told after every fdatasync, on either thread: how long it took and how many records it made durable. */
  synced(durationMs: number, records: number): void;
}

export interface LoneWriterGateOptions {
  /** The gate is set again after this many fdatasyncs (default 32). */
  readonly window?: number;
  /** Blocking is allowed after a window whose fdatasyncs averaged at most this many records (default 1.25). */
  readonly maxRecordsPerSync?: number;
  /** An fdatasync slower than this (default 10 ms) shuts the gate for the rest of its window and the next. */
  readonly maxSyncMs?: number;
}

/**
 * Blocks the event loop for an fdatasync only while the WAL is fed one record at a time, the sign of
 * a lone sequential writer. Why: handing the call to libuv's pool costs a thread wake-up each way
 * (0.2–0.3 ms of a traced ~3 ms put on these VMs, and 13% of the members' CPU a put: figures in
 * @k8ts/etcdserver's README), and one writer leaves the loop nothing to do meanwhile. Under
 * concurrency, proposals batch (10 and more records a sync at 100 clients) and the loop has other
 * work while the disk syncs: every fdatasync blocking cost 100 clients 12%. The event loop's busy
 * share was tried as the signal first and does not work here: with the cores oversubscribed, a
 * member waits for the CPU inside epoll, which node counts as idle. A slow disk shuts the gate, so
 * the loop blocks on a stalling disk at most once a window.
 */
export function loneWriterGate(options: LoneWriterGateOptions = {}): SyncThreadGate {
  const window = options.window ?? 32;
  const maxRecordsPerSync = options.maxRecordsPerSync ?? 1.25;
  const maxSyncMs = options.maxSyncMs ?? 10;
  let open = false;
  let syncs = 0;
  let records = 0;
  let slow = false;
  return {
    onCallingThread: () => open,
    synced(durationMs, synced) {
      syncs += 1;
      records += synced;
      if (durationMs > maxSyncMs) {
        slow = true;
        open = false;
      }
      if (syncs < window) return;
      open = !slow && records <= maxRecordsPerSync * syncs;
      syncs = 0;
      records = 0;
      slow = false;
    },
  };
}
