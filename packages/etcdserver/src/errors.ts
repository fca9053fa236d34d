import * as grpc from '@grpc/grpc-js';

/**
 * etcd 3.4's server errors as its gRPC layer sends them (rpctypes/error.go): clients match on the
 * code and the exact message.
 */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

export const serverErrors = {
  timeout: () => new ServerError(grpc.status.UNAVAILABLE, 'etcdserver: request timed out'),
  noLeader: () => new ServerError(grpc.status.UNAVAILABLE, 'etcdserver: no leader'),
  leaderChanged: () => new ServerError(grpc.status.UNAVAILABLE, 'etcdserver: leader changed'),
  stopped: () => new ServerError(grpc.status.UNAVAILABLE, 'etcdserver: server stopped'),
  tooLarge: () => new ServerError(grpc.status.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  tooManyRequests: () => new ServerError(grpc.status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'),
  noSpace: () => new ServerError(grpc.status.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'),
  memberNotFound: () => new ServerError(grpc.status.NOT_FOUND, 'etcdserver: member not found'),
  peerUrlExists: () => new ServerError(grpc.status.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'),
  memberNotLearner: () => new ServerError(grpc.status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'),
  learnerNotReady: () =>
    new ServerError(grpc.status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member which is in sync with leader'),
};
