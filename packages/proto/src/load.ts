import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { findProtoRoot } from './paths.js';
import { makeRequestsStrict } from './strict_requests.js';

/**
 * How every message is decoded (and what the exported message types describe): field names as
 * written in the .proto, 64-bit integers as decimal strings (no precision loss past 2^53), enums as
 * their names, absent fields filled with defaults (repeated → [], message → null), and each oneof
 * reported by the name of its set member.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export interface LoadOptions {
  /** The proto/ folder; found from this package's location when left out. */
  readonly protoRoot?: string;
}

export interface EtcdApi {
  readonly KV: grpc.ServiceClientConstructor;
  readonly Watch: grpc.ServiceClientConstructor;
  readonly Lease: grpc.ServiceClientConstructor;
  readonly Cluster: grpc.ServiceClientConstructor;
  readonly Maintenance: grpc.ServiceClientConstructor;
  readonly Auth: grpc.ServiceClientConstructor;
  /** Everything loaded, by full name ('etcdserverpb.RangeRequest', 'mvccpb.KeyValue', …). */
  readonly packageDefinition: protoLoader.PackageDefinition;
}

export interface RaftTransportApi {
  readonly RaftTransport: grpc.ServiceClientConstructor;
  readonly packageDefinition: protoLoader.PackageDefinition;
}

/**
 * The etcd v3 API. Each service is a client constructor (`new KV(address, credentials)`) whose
 * `.service` is the definition a server registers (`server.addService(KV.service, handlers)`).
 * A server's handlers receive a `MalformedRequest` for bytes etcd would refuse to unmarshal.
 */
export function loadEtcdApi(options: LoadOptions = {}): EtcdApi {
  const root = options.protoRoot ?? findProtoRoot();
  // etcd's files import each other as "mvccpb/kv.proto", so proto/etcd is the include root.
  const packageDefinition = protoLoader.loadSync('etcdserverpb/rpc.proto', {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [join(root, 'etcd')],
  });
  // etcd refuses what its gogo/protobuf code cannot unmarshal; protobufjs alone would take it.
  makeRequestsStrict(packageDefinition, 'etcdserverpb');
  passEncodedResponses(packageDefinition, 'etcdserverpb.Watch');
  const pkg = namespace(grpc.loadPackageDefinition(packageDefinition), 'etcdserverpb');
  return {
    KV: service(pkg, 'etcdserverpb', 'KV'),
    Watch: service(pkg, 'etcdserverpb', 'Watch'),
    Lease: service(pkg, 'etcdserverpb', 'Lease'),
    Cluster: service(pkg, 'etcdserverpb', 'Cluster'),
    Maintenance: service(pkg, 'etcdserverpb', 'Maintenance'),
    Auth: service(pkg, 'etcdserverpb', 'Auth'),
    packageDefinition,
  };
}

/** Our Raft peer transport (proto/k8ts/raftpb.proto). */
export function loadRaftTransport(options: LoadOptions = {}): RaftTransportApi {
  const root = options.protoRoot ?? findProtoRoot();
  const packageDefinition = protoLoader.loadSync('k8ts/raftpb.proto', {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [root],
  });
  const k8ts = namespace(grpc.loadPackageDefinition(packageDefinition), 'k8ts');
  const pkg = namespace(k8ts, 'raftpb');
  return { RaftTransport: service(pkg, 'k8ts.raftpb', 'RaftTransport'), packageDefinition };
}

/**
 * Lets a server write responses of `serviceName` already encoded (a Buffer goes out as it is): the
 * store encodes each watch event once for all its watchers (@k8ts/etcdserver's watch_encoding.ts).
 */
function passEncodedResponses(definition: protoLoader.PackageDefinition, serviceName: string): void {
  const service = definition[serviceName] as grpc.ServiceDefinition | undefined;
  if (service === undefined) throw new Error(`@k8ts/proto: service ${serviceName} missing from the loaded definitions`);
  for (const method of Object.values(service) as protoLoader.MethodDefinition<object, object>[]) {
    const encode = method.responseSerialize;
    (method as { responseSerialize: (response: object) => Buffer }).responseSerialize = (response) => (Buffer.isBuffer(response) ? response : encode(response));
  }
}

function namespace(parent: grpc.GrpcObject, name: string): grpc.GrpcObject {
  const child = parent[name];
  if (child === undefined || typeof child === 'function' || !isGrpcObject(child)) {
    throw new Error(`@k8ts/proto: package ${name} missing from the loaded definitions`);
  }
  return child;
}

function service(pkg: grpc.GrpcObject, pkgName: string, name: string): grpc.ServiceClientConstructor {
  const ctor = pkg[name];
  if (typeof ctor !== 'function' || !('service' in ctor)) {
    throw new Error(`@k8ts/proto: service ${pkgName}.${name} missing from the loaded definitions`);
  }
  return ctor;
}

// Message and enum definitions are objects with a `format`; namespaces are plain objects.
function isGrpcObject(value: object): value is grpc.GrpcObject {
  return !('format' in value);
}
