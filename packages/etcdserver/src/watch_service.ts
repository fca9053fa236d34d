import * as grpc from '@grpc/grpc-js';
import type { EtcdServer } from './server.js';
import { eventToWire } from './wire.js';

type Wire = Record<string, unknown>;

/** Past this much unsent data, a stream's watches are cancelled rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** etcd sends progress notifications to watches that asked for them every 10 minutes. */
const PROGRESS_INTERVAL_MS = 10 * 60 * 1000;

/**
 * etcdserverpb.Watch: one bidirectional stream carries many watches. A watch's first response says
 * "created"; then come its history (from start_revision) and live events, in revision order.
 */
export function watchService(server: EtcdServer, progressIntervalMs = PROGRESS_INTERVAL_MS): grpc.UntypedServiceImplementation {
  return {
    Watch: (call: grpc.ServerDuplexStream<Wire, Wire>) => {
      const watches = new Map<number, { hubId: number | undefined; progress: boolean }>();
      let nextWatchId = 0;
      let closed = false;
      const send = (response: Wire): void => {
        if (closed) return;
        call.write(response);
        if (call.writableLength > MAX_BUFFERED_BYTES) {
          for (const [watchId, watch] of watches) {
            if (watch.hubId !== undefined) server.watches.remove(watch.hubId);
            watches.delete(watchId);
          }
          call.destroy(new Error('watch stream too slow: consumer fell behind'));
          closed = true;
        }
      };
      const progress = setInterval(() => {
        for (const [watchId, watch] of watches) if (watch.progress) send({ header: server.header(), watch_id: watchId });
      }, progressIntervalMs);

      const create = (request: Wire): void => {
        let watchId = Number(request['watch_id'] ?? 0);
        if (watchId === 0) {
          while (watches.has(nextWatchId)) nextWatchId++;
          watchId = nextWatchId++;
        } else if (watches.has(watchId)) {
          send({ header: server.header(), watch_id: -1, created: true, canceled: true, cancel_reason: 'mvcc: duplicate watch ID provided on the WatchStream' });
          return;
        }
        const filters = Array.isArray(request['filters']) ? (request['filters'] as string[]) : [];
        const spec = {
          key: request['key'] instanceof Uint8Array ? request['key'] : new Uint8Array(),
          rangeEnd: request['range_end'] instanceof Uint8Array ? request['range_end'] : new Uint8Array(),
          startRevision: Number(request['start_revision'] ?? 0),
          prevKv: request['prev_kv'] === true,
          noPut: filters.includes('NOPUT'),
          noDelete: filters.includes('NODELETE'),
        };
        const watch = { hubId: undefined as number | undefined, progress: request['progress_notify'] === true };
        watches.set(watchId, watch);
        send({ header: server.header(), watch_id: watchId, created: true });
        watch.hubId = server.watches.add(spec, {
          events: (events) => send({ header: server.header(), watch_id: watchId, events: events.map(eventToWire) }),
          compacted: (compactRevision) => {
            watches.delete(watchId);
            send({ header: server.header(), watch_id: watchId, canceled: true, compact_revision: compactRevision, cancel_reason: 'mvcc: required revision has been compacted' });
          },
        });
      };

      call.on('data', (request: Wire) => {
        switch (request['request_union']) {
          case 'create_request':
            create((request['create_request'] ?? {}) as Wire);
            return;
          case 'cancel_request': {
            const watchId = Number((request['cancel_request'] as Wire | undefined)?.['watch_id'] ?? 0);
            const watch = watches.get(watchId);
            if (watch?.hubId !== undefined) server.watches.remove(watch.hubId);
            watches.delete(watchId);
            send({ header: server.header(), watch_id: watchId, canceled: true });
            return;
          }
          case 'progress_request':
            // Not tied to one watch: etcd answers with watch id -1, which clients broadcast.
            send({ header: server.header(), watch_id: -1 });
            return;
          default:
            return;
        }
      });
      const close = (): void => {
        if (closed) return;
        closed = true;
        clearInterval(progress);
        for (const watch of watches.values()) if (watch.hubId !== undefined) server.watches.remove(watch.hubId);
        watches.clear();
      };
      call.on('end', () => {
        close();
        call.end();
      });
      call.on('cancelled', close);
      call.on('error', close);
      call.on('close', close);
    },
  };
}
