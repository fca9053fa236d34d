/** The components' gRPC API (proto/k8ts/apiserver.proto) over one ApiServer replica. */
export { registerApiService, type ApiServiceOptions } from './api_service.js';
export { listenGrpcApi, type GrpcApiListener } from './listen.js';
export { grpcCodeOf } from './status.js';
