/**
 * etcd 3.4's errors, as its gRPC layer sends them (etcdserver/api/v3rpc/rpctypes/error.go): the status
 * code and the exact message, which clients match on (clientv3 and the etcd3 npm client both compare
 * message text). The mvcc package's own messages ("mvcc: required revision has been compacted") reach
 * the wire with the "etcdserver: " prefix, so the wire form is what we keep.
 */

/** The gRPC status codes etcd uses for these errors, by name and number. */
export const GRPC_STATUS = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  FAILED_PRECONDITION: 9,
  OUT_OF_RANGE: 11,
} as const;
export type GrpcStatusName = keyof typeof GRPC_STATUS;

export interface EtcdErrorSpec {
  readonly code: GrpcStatusName;
  readonly message: string;
}

const spec = (code: GrpcStatusName, message: string): EtcdErrorSpec => Object.freeze({ code, message });

export const ERR_EMPTY_KEY = spec('INVALID_ARGUMENT', 'etcdserver: key is not provided');
export const ERR_KEY_NOT_FOUND = spec('INVALID_ARGUMENT', 'etcdserver: key not found');
export const ERR_VALUE_PROVIDED = spec('INVALID_ARGUMENT', 'etcdserver: value is provided');
export const ERR_LEASE_PROVIDED = spec('INVALID_ARGUMENT', 'etcdserver: lease is provided');
export const ERR_TOO_MANY_OPS = spec('INVALID_ARGUMENT', 'etcdserver: too many operations in txn request');
export const ERR_DUPLICATE_KEY = spec('INVALID_ARGUMENT', 'etcdserver: duplicate key given in txn request');
export const ERR_COMPACTED = spec('OUT_OF_RANGE', 'etcdserver: mvcc: required revision has been compacted');
export const ERR_FUTURE_REV = spec('OUT_OF_RANGE', 'etcdserver: mvcc: required revision is a future revision');
export const ERR_LEASE_NOT_FOUND = spec('NOT_FOUND', 'etcdserver: requested lease not found');
export const ERR_LEASE_EXIST = spec('FAILED_PRECONDITION', 'etcdserver: lease already exists');
export const ERR_LEASE_TTL_TOO_LARGE = spec('OUT_OF_RANGE', 'etcdserver: too large lease TTL');

/** A request etcd would refuse. Nothing was changed when one is thrown. */
export class EtcdError extends Error {
  override readonly name = 'EtcdError';
  readonly code: GrpcStatusName;
  readonly grpcCode: number;

  constructor(readonly spec: EtcdErrorSpec) {
    super(spec.message);
    this.code = spec.code;
    this.grpcCode = GRPC_STATUS[spec.code];
  }

  is(other: EtcdErrorSpec): boolean {
    return this.spec === other;
  }
}

export function fail(errorSpec: EtcdErrorSpec): never {
  throw new EtcdError(errorSpec);
}
