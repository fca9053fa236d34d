import { isMalformedRequest, type ServerStreamCall, type ServiceImplementation } from '@k8ts/proto';
import type { WatchSpec } from './watch_hub.js';
import { WatchStream, type WatchBackend } from './watch_stream.js';

type Wire = Record<string, unknown>;

export interface WatchServiceOptions {
  /** How often watches that asked for progress notifications get one (etcd: every 10 minutes). */
  readonly progressIntervalMs?: number;
  /** Encoded responses a stream may hold unsent before its watches fall back to catching up from history. */
  readonly maxUnsentBytes?: number;
}

const PROGRESS_INTERVAL_MS = 10 * 60 * 1000;
/** Past this much unsent data, a stream's watches stop being fed and later catch up from history. */
const MAX_UNSENT_BYTES = 64 * 1024 * 1024;

/**
 * etcdserverpb.Watch: one bidirectional stream carries many watches. A watch's first response says
 * "created"; then come its history (from start_revision) and live events, in revision order.
 */
export function watchService(backend: WatchBackend, options: WatchServiceOptions = {}): ServiceImplementation {
  const progressIntervalMs = options.progressIntervalMs ?? PROGRESS_INTERVAL_MS;
  const maxUnsentBytes = options.maxUnsentBytes ?? MAX_UNSENT_BYTES;
  return {
    Watch: (call: ServerStreamCall) => {
      const stream = new WatchStream(backend, (response, sent) => call.write(response, sent), maxUnsentBytes);
      const progress = setInterval(() => stream.notifyProgress(), progressIntervalMs);
      let ended = false;
      call.on('data', (request: Wire) => {
        if (ended) return;
        if (isMalformedRequest(request)) {
          // etcd's recvLoop returns the Recv error: the stream ends with its status.
          ended = true;
          close();
          call.fail(request);
          return;
        }
        switch (request['request_union']) {
          case 'create_request': {
            const create = (request['create_request'] ?? {}) as Wire;
            stream.create(Number(create['watch_id'] ?? 0), specFromWire(create), create['progress_notify'] === true);
            return;
          }
          case 'cancel_request':
            stream.cancel(Number((request['cancel_request'] as Wire | undefined)?.['watch_id'] ?? 0));
            return;
          case 'progress_request':
            stream.requestProgress();
            return;
          default:
            return;
        }
      });
      const close = (): void => {
        clearInterval(progress);
        stream.close();
      };
      // A client that half-closes still gets its watches' events, as from etcd (its recvLoop
      // returns nil on EOF, and the stream lives until the client cancels or goes away).
      call.on('close', close);
    },
  };
}

function specFromWire(request: Wire): WatchSpec {
  const filters = Array.isArray(request['filters']) ? (request['filters'] as string[]) : [];
  return {
    key: request['key'] instanceof Uint8Array ? request['key'] : new Uint8Array(),
    rangeEnd: request['range_end'] instanceof Uint8Array ? request['range_end'] : new Uint8Array(),
    startRevision: Number(request['start_revision'] ?? 0),
    prevKv: request['prev_kv'] === true,
    noPut: filters.includes('NOPUT'),
    noDelete: filters.includes('NODELETE'),
  };
}
