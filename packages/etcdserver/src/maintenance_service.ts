import * as grpc from '@grpc/grpc-js';
import { EtcdError, ERR_COMPACTED, ERR_FUTURE_REV } from '@k8ts/mvcc';
import { isMalformedRequest, type ServerStreamCall, type ServiceImplementation } from '@k8ts/proto';
import { Role } from '@k8ts/raft';
import { ServerError } from './errors.js';
import { idFromWire, idToWire } from './members.js';
import type { EtcdServer } from './server.js';
import { int64FromWire, unary } from './wire.js';

type Wire = Record<string, unknown>;

/** The etcd API version we answer for; the build metadata says what we are. */
export const SERVER_VERSION = '3.4.0+k8ts';

/** FNV-1a over the state machine's snapshot: equal states hash equal on every member. */
function hashOf(data: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of data) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

export function maintenanceService(server: EtcdServer): ServiceImplementation {
  return {
    Status: unary(async () => {
      const status = server.node.status();
      const size = server.stateMachine.store().sizeBytes();
      return {
        header: server.header(),
        version: SERVER_VERSION,
        dbSize: size,
        leader: idToWire(status.leader),
        raftIndex: status.commit,
        raftTerm: status.term,
        raftAppliedIndex: server.stateMachine.lastApplied(),
        errors: [],
        dbSizeInUse: size,
        isLearner: status.membership.learners.includes(server.config.memberId),
      };
    }),
    Alarm: unary(async () => ({ header: server.header(), alarms: [] })),
    Defragment: unary(async () => ({ header: server.header() })),
    Hash: unary(async () => ({ header: server.header(), hash: hashOf(server.stateMachine.store().snapshot()) })),
    HashKV: unary(async (wire: Wire) => {
      const store = server.stateMachine.store();
      // etcd's HashByRev: a revision at or below the compacted one, or past the current one, is refused.
      const revision = int64FromWire(wire['revision']);
      if (revision > 0 && revision <= store.compactRevision()) throw new EtcdError(ERR_COMPACTED);
      if (revision > 0 && revision > store.currentRevision()) throw new EtcdError(ERR_FUTURE_REV);
      return { header: server.header(), hash: hashOf(store.snapshot()), compact_revision: store.compactRevision() };
    }),
    MoveLeader: unary(async (wire: Wire) => {
      if (server.node.status().role !== Role.Leader) throw new ServerError(grpc.status.FAILED_PRECONDITION, 'etcdserver: not leader');
      const result = await server.node.transferLeadership(idFromWire(wire['targetID']));
      if (!result.ok) throw new ServerError(grpc.status.FAILED_PRECONDITION, `etcdserver: ${result.reason}`);
      return { header: server.header() };
    }),
    Snapshot: (call: ServerStreamCall) => {
      const request: unknown = call.request;
      if (isMalformedRequest(request)) {
        call.fail(request);
        return;
      }
      call.fail({ code: grpc.status.UNIMPLEMENTED, details: "k8ts-store: Snapshot streams etcd's bbolt file format, which k8ts-store does not use" });
    },
  };
}
