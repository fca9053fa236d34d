import { randomBytes } from 'node:crypto';
import type { LeaseGrantResponse } from '@k8ts/mvcc';
import type { EtcdServer } from './server.js';
import { isMalformedRequest, type ServerStreamCall, type ServiceImplementation } from '@k8ts/proto';
import { int64FromWire, toStatus, unary } from './wire.js';

type Wire = Record<string, unknown>;

/** A new lease id: a random positive int63, as a decimal string (ids exceed 2^53). */
function newLeaseId(): string {
  return (randomBytes(8).readBigUInt64BE(0) >> 1n || 1n).toString();
}

/** etcdserverpb.Lease. Grants and revokes are replicated; expiry and keep-alives are the leader's. */
export function leaseService(server: EtcdServer): ServiceImplementation {
  return {
    LeaseGrant: unary(async (wire: Wire) => {
      const requested = String(wire['ID'] ?? '0');
      const id = requested === '0' ? newLeaseId() : requested;
      const response = (await server.write({ kind: 'leaseGrant', id, ttl: int64FromWire(wire['TTL']) })) as LeaseGrantResponse;
      return { header: server.header(), ID: response.id, TTL: response.ttl, error: '' };
    }),
    LeaseRevoke: unary(async (wire: Wire) => {
      await server.write({ kind: 'leaseRevoke', id: String(wire['ID'] ?? '0') });
      return { header: server.header() };
    }),
    LeaseKeepAlive: (call: ServerStreamCall) => {
      let ended = false;
      call.on('data', (request: Wire) => {
        if (ended) return;
        if (isMalformedRequest(request)) {
          // etcd's recvLoop returns the Recv error: the stream ends with its status.
          ended = true;
          call.fail(request);
          return;
        }
        const id = String(request['ID'] ?? '0');
        server.leaseRenew(id).then(
          (ttl) => call.write({ header: server.header(), ID: id, TTL: Math.max(0, ttl) }),
          (error: unknown) => call.fail(toStatus(error)),
        );
      });
      call.on('end', () => call.end());
    },
    LeaseTimeToLive: unary(async (wire: Wire) => {
      const id = String(wire['ID'] ?? '0');
      await server.linearizableRead();
      const info = server.stateMachine.store().leaseInfo(id);
      if (info === undefined) return { header: server.header(), ID: id, TTL: -1, grantedTTL: 0, keys: [] };
      const remaining = await server.leaseRemaining(id);
      return { header: server.header(), ID: id, TTL: remaining, grantedTTL: info.ttl, keys: wire['keys'] === true ? info.keys : [] };
    }),
    LeaseLeases: unary(async () => {
      await server.linearizableRead();
      return { header: server.header(), leases: server.stateMachine.store().leases().map((lease) => ({ ID: lease.id })) };
    }),
  };
}
