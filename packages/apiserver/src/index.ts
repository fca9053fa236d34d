/**
 * The API server's logic, used by services/apiserver:
 * - `ApiServer`: one replica (store client, watch caches, REST handler).
 * - `ResourceService`: the API verbs on objects, independent of HTTP.
 * - `ObjectStore`, `EtcdClient`: objects in an etcd v3 store (k8ts-store or real etcd).
 */
export { ApiServer, type ApiServerConfig } from './api_server.js';
export { ResourceService, type DeleteOptions, type WriteOptions } from './resource_service.js';
export { ObjectStore, objectKey, type KubeObject, type ObjectMeta } from './object_store.js';
export { EtcdClient } from './etcd_client.js';
export { RestHandler } from './rest/handler.js';
export { registerApiService, listenGrpcApi, grpcCodeOf, type ApiServiceOptions, type GrpcApiListener } from './grpc/index.js';
export { NatsNodeLogs, LOGS_SUBJECT, type LogRequest, type NodeLogs } from './pod_logs.js';
export { NatsNodeStreams, NodeStreamError, STREAM_SUBJECT, type NodeStreams, type NodeStreamSession, type StreamRequest } from './pod_streams.js';
export { PodStreamHandler } from './streams/pod_stream_handler.js';
