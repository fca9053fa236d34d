/**
 * @k8ts/proto: the .proto files under the repository's proto/ folder, loaded for gRPC.
 *
 * - `loadEtcdApi()`: the etcd v3 API (wire-compatible with etcd 3.4) for the store's server and for
 *   clients of the store.
 * - `loadRaftTransport()`: the store members' Raft peer transport.
 * - TypeScript shapes of the messages as decoded with `PROTO_LOADER_OPTIONS`.
 */
export { findProtoRoot } from './paths.js';
export {
  PROTO_LOADER_OPTIONS,
  loadEtcdApi,
  loadRaftTransport,
  type EtcdApi,
  type LoadOptions,
  type RaftTransportApi,
} from './load.js';
export type * from './etcd_types.js';
export type * from './raft_types.js';
export { loadLeaderForwarding, type LeaderForwardingApi } from './leader_forwarding.js';
export * from './api_service.js';
export { MalformedRequest, isMalformedRequest } from './strict_requests.js';
export { checkMessage, messageRules, goFieldName, type MessageRule, type FieldRule } from './strict_decode.js';
export * from './node_streams.js';
export { UnaryChannel, type UnaryChannelOptions, type UnaryError } from './grpc_unary.js';
export { GrpcServer, GrpcStatusError, type GrpcServerOptions, type GrpcStatus, type ServerStreamCall, type ServiceImplementation, type StreamHandler, type UnaryHandler } from './grpc_server.js';
