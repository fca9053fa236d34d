import type { ServiceImplementation } from '@k8ts/proto';
import type { CompactionResponse, DeleteRangeResponse, PutResponse, TxnResponse } from '@k8ts/mvcc';
import type { EtcdServer } from './server.js';
import { deleteRangeFromWire, int64FromWire, kvToWire, putFromWire, rangeFromWire, txnFromWire, txnResponseToWire, unary } from './wire.js';

type Wire = Record<string, unknown>;

/** etcdserverpb.KV: reads are linearizable unless the client asks for serializable. */
export function kvService(server: EtcdServer): ServiceImplementation {
  return {
    Range: unary(async (wire: Wire) => {
      const request = rangeFromWire(wire);
      if (!request.serializable) await server.linearizableRead();
      const response = server.stateMachine.store().range(request);
      return { header: server.header(response.revision), kvs: response.kvs.map(kvToWire), more: response.more, count: response.count };
    }),
    Put: unary(async (wire: Wire) => {
      const response = (await server.write({ kind: 'put', request: putFromWire(wire) })) as PutResponse;
      return { header: server.header(response.revision), ...(response.prevKv ? { prev_kv: kvToWire(response.prevKv) } : {}) };
    }),
    DeleteRange: unary(async (wire: Wire) => {
      const response = (await server.write({ kind: 'deleteRange', request: deleteRangeFromWire(wire) })) as DeleteRangeResponse;
      return { header: server.header(response.revision), deleted: response.deleted, prev_kvs: response.prevKvs.map(kvToWire) };
    }),
    Txn: unary(async (wire: Wire) => {
      const response = (await server.write({ kind: 'txn', request: txnFromWire(wire) })) as TxnResponse;
      return txnResponseToWire(response, server.header(response.revision));
    }),
    Compact: unary(async (wire: Wire) => {
      const request = { revision: int64FromWire(wire['revision']), physical: wire['physical'] === true };
      const response = (await server.write({ kind: 'compact', request })) as CompactionResponse;
      return { header: server.header(response.revision) };
    }),
  };
}
