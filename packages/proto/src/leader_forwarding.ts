import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, type LoadOptions } from './load.js';
import { findProtoRoot } from './paths.js';

export interface LeaderForwardingApi {
  readonly LeaderForwarding: grpc.ServiceClientConstructor;
  readonly packageDefinition: protoLoader.PackageDefinition;
}

/** Store members forwarding requests to their leader (proto/k8ts/memberpb.proto). */
export function loadLeaderForwarding(options: LoadOptions = {}): LeaderForwardingApi {
  const root = options.protoRoot ?? findProtoRoot();
  const packageDefinition = protoLoader.loadSync('k8ts/memberpb.proto', { ...PROTO_LOADER_OPTIONS, includeDirs: [root] });
  const loaded = grpc.loadPackageDefinition(packageDefinition) as { k8ts?: { memberpb?: { LeaderForwarding?: unknown } } };
  const service = loaded.k8ts?.memberpb?.LeaderForwarding;
  if (typeof service !== 'function') throw new Error('@k8ts/proto: service k8ts.memberpb.LeaderForwarding missing');
  return { LeaderForwarding: service as grpc.ServiceClientConstructor, packageDefinition };
}
