import type { PackageDefinition } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { loadEtcdApi, loadRaftTransport } from './index.js';

// The expected names, numbers and types below are copied by hand from etcd's release-3.4 protos
// (etcdserver/etcdserverpb/rpc.proto, mvcc/mvccpb/kv.proto), not from ours: they are the referee.

interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
  readonly type: string;
  readonly label: string;
}
interface EnumDescriptor {
  readonly name: string;
  readonly value: readonly { readonly name: string; readonly number: number }[];
}
interface MessageDescriptor {
  readonly field: readonly FieldDescriptor[];
  readonly enumType: readonly EnumDescriptor[];
}

function message(definition: PackageDefinition, fullName: string): MessageDescriptor {
  const entry = definition[fullName];
  expect(entry, fullName).toBeDefined();
  expect(entry).toHaveProperty('format', 'Protocol Buffer 3 DescriptorProto');
  return (entry as unknown as { type: MessageDescriptor }).type;
}

/** name → "number type", e.g. { key: '1 bytes' }; repeated fields get a "repeated " prefix. */
function fields(definition: PackageDefinition, fullName: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of message(definition, fullName).field) {
    const repeated = f.label === 'LABEL_REPEATED' ? 'repeated ' : '';
    out[f.name] = `${f.number} ${repeated}${f.type.replace('TYPE_', '').toLowerCase()}`;
  }
  return out;
}

function enumValues(values: EnumDescriptor['value']): Record<string, number> {
  return Object.fromEntries(values.map((v) => [v.name, v.number]));
}

function nestedEnum(definition: PackageDefinition, messageName: string, enumName: string): Record<string, number> {
  const found = message(definition, messageName).enumType.find((e) => e.name === enumName);
  expect(found, `${messageName}.${enumName}`).toBeDefined();
  return enumValues(found?.value ?? []);
}

/** "Name" for unary, "stream Name" / "Name stream" for the streaming sides, as in the .proto. */
function rpcs(service: { service: Record<string, { requestStream: boolean; responseStream: boolean }> }): string[] {
  return Object.entries(service.service).map(
    ([name, m]) => `${m.requestStream ? 'stream ' : ''}${name}${m.responseStream ? ' stream' : ''}`,
  );
}

describe('etcd v3 API', () => {
  const api = loadEtcdApi();
  const def = api.packageDefinition;

  it('has every service and RPC of etcd 3.4, with its streaming shape', () => {
    expect(rpcs(api.KV)).toEqual(['Range', 'Put', 'DeleteRange', 'Txn', 'Compact']);
    expect(rpcs(api.Watch)).toEqual(['stream Watch stream']);
    expect(rpcs(api.Lease)).toEqual([
      'LeaseGrant',
      'LeaseRevoke',
      'stream LeaseKeepAlive stream',
      'LeaseTimeToLive',
      'LeaseLeases',
    ]);
    expect(rpcs(api.Cluster)).toEqual(['MemberAdd', 'MemberRemove', 'MemberUpdate', 'MemberList', 'MemberPromote']);
    expect(rpcs(api.Maintenance)).toEqual([
      'Alarm',
      'Status',
      'Defragment',
      'Hash',
      'HashKV',
      'Snapshot stream',
      'MoveLeader',
    ]);
    expect(rpcs(api.Auth)).toEqual([
      'AuthEnable',
      'AuthDisable',
      'Authenticate',
      'UserAdd',
      'UserGet',
      'UserList',
      'UserDelete',
      'UserChangePassword',
      'UserGrantRole',
      'UserRevokeRole',
      'RoleAdd',
      'RoleGet',
      'RoleList',
      'RoleDelete',
      'RoleGrantPermission',
      'RoleRevokePermission',
    ]);
  });

  it('uses etcd paths on the wire (package etcdserverpb)', () => {
    expect(api.KV.service['Range']?.path).toBe('/etcdserverpb.KV/Range');
    expect(api.Watch.service['Watch']?.path).toBe('/etcdserverpb.Watch/Watch');
    expect(api.Lease.service['LeaseKeepAlive']?.path).toBe('/etcdserverpb.Lease/LeaseKeepAlive');
    expect(api.Maintenance.service['Status']?.path).toBe('/etcdserverpb.Maintenance/Status');
    expect(api.Maintenance.service['HashKV']?.path).toBe('/etcdserverpb.Maintenance/HashKV');
    expect(api.Auth.service['Authenticate']?.path).toBe('/etcdserverpb.Auth/Authenticate');
  });

  it('ResponseHeader, KeyValue and Event have etcd field numbers', () => {
    expect(fields(def, 'etcdserverpb.ResponseHeader')).toEqual({
      cluster_id: '1 uint64',
      member_id: '2 uint64',
      revision: '3 int64',
      raft_term: '4 uint64',
    });
    expect(fields(def, 'mvccpb.KeyValue')).toEqual({
      key: '1 bytes',
      create_revision: '2 int64',
      mod_revision: '3 int64',
      version: '4 int64',
      value: '5 bytes',
      lease: '6 int64',
    });
    expect(fields(def, 'mvccpb.Event')).toEqual({ type: '1 enum', kv: '2 message', prev_kv: '3 message' });
    expect(nestedEnum(def, 'mvccpb.Event', 'EventType')).toEqual({ PUT: 0, DELETE: 1 });
  });

  it('RangeRequest, PutRequest and DeleteRangeRequest have etcd field numbers', () => {
    expect(fields(def, 'etcdserverpb.RangeRequest')).toEqual({
      key: '1 bytes',
      range_end: '2 bytes',
      limit: '3 int64',
      revision: '4 int64',
      sort_order: '5 enum',
      sort_target: '6 enum',
      serializable: '7 bool',
      keys_only: '8 bool',
      count_only: '9 bool',
      min_mod_revision: '10 int64',
      max_mod_revision: '11 int64',
      min_create_revision: '12 int64',
      max_create_revision: '13 int64',
    });
    expect(nestedEnum(def, 'etcdserverpb.RangeRequest', 'SortOrder')).toEqual({ NONE: 0, ASCEND: 1, DESCEND: 2 });
    expect(nestedEnum(def, 'etcdserverpb.RangeRequest', 'SortTarget')).toEqual({
      KEY: 0,
      VERSION: 1,
      CREATE: 2,
      MOD: 3,
      VALUE: 4,
    });
    expect(fields(def, 'etcdserverpb.RangeResponse')).toEqual({
      header: '1 message',
      kvs: '2 repeated message',
      more: '3 bool',
      count: '4 int64',
    });
    expect(fields(def, 'etcdserverpb.PutRequest')).toEqual({
      key: '1 bytes',
      value: '2 bytes',
      lease: '3 int64',
      prev_kv: '4 bool',
      ignore_value: '5 bool',
      ignore_lease: '6 bool',
    });
    expect(fields(def, 'etcdserverpb.PutResponse')).toEqual({ header: '1 message', prev_kv: '2 message' });
    expect(fields(def, 'etcdserverpb.DeleteRangeResponse')).toEqual({
      header: '1 message',
      deleted: '2 int64',
      prev_kvs: '3 repeated message',
    });
  });

  it('Txn and Compare have etcd field numbers, including Compare.range_end = 64', () => {
    expect(fields(def, 'etcdserverpb.Compare')).toEqual({
      result: '1 enum',
      target: '2 enum',
      key: '3 bytes',
      version: '4 int64',
      create_revision: '5 int64',
      mod_revision: '6 int64',
      value: '7 bytes',
      lease: '8 int64',
      range_end: '64 bytes',
    });
    expect(nestedEnum(def, 'etcdserverpb.Compare', 'CompareResult')).toEqual({
      EQUAL: 0,
      GREATER: 1,
      LESS: 2,
      NOT_EQUAL: 3,
    });
    expect(nestedEnum(def, 'etcdserverpb.Compare', 'CompareTarget')).toEqual({
      VERSION: 0,
      CREATE: 1,
      MOD: 2,
      VALUE: 3,
      LEASE: 4,
    });
    expect(fields(def, 'etcdserverpb.RequestOp')).toEqual({
      request_range: '1 message',
      request_put: '2 message',
      request_delete_range: '3 message',
      request_txn: '4 message',
    });
    expect(fields(def, 'etcdserverpb.TxnResponse')).toEqual({
      header: '1 message',
      succeeded: '2 bool',
      responses: '3 repeated message',
    });
  });

  it('the watch messages have etcd field numbers, including WatchResponse.events = 11', () => {
    expect(fields(def, 'etcdserverpb.WatchRequest')).toEqual({
      create_request: '1 message',
      cancel_request: '2 message',
      progress_request: '3 message',
    });
    expect(fields(def, 'etcdserverpb.WatchCreateRequest')).toEqual({
      key: '1 bytes',
      range_end: '2 bytes',
      start_revision: '3 int64',
      progress_notify: '4 bool',
      filters: '5 repeated enum',
      prev_kv: '6 bool',
      watch_id: '7 int64',
      fragment: '8 bool',
    });
    expect(nestedEnum(def, 'etcdserverpb.WatchCreateRequest', 'FilterType')).toEqual({ NOPUT: 0, NODELETE: 1 });
    expect(fields(def, 'etcdserverpb.WatchResponse')).toEqual({
      header: '1 message',
      watch_id: '2 int64',
      created: '3 bool',
      canceled: '4 bool',
      compact_revision: '5 int64',
      cancel_reason: '6 string',
      fragment: '7 bool',
      events: '11 repeated message',
    });
  });

  it('lease, member and status messages have etcd field names and numbers', () => {
    expect(fields(def, 'etcdserverpb.LeaseGrantRequest')).toEqual({ TTL: '1 int64', ID: '2 int64' });
    expect(fields(def, 'etcdserverpb.LeaseGrantResponse')).toEqual({
      header: '1 message',
      ID: '2 int64',
      TTL: '3 int64',
      error: '4 string',
    });
    expect(fields(def, 'etcdserverpb.LeaseTimeToLiveResponse')).toEqual({
      header: '1 message',
      ID: '2 int64',
      TTL: '3 int64',
      grantedTTL: '4 int64',
      keys: '5 repeated bytes',
    });
    expect(fields(def, 'etcdserverpb.Member')).toEqual({
      ID: '1 uint64',
      name: '2 string',
      peerURLs: '3 repeated string',
      clientURLs: '4 repeated string',
      isLearner: '5 bool',
    });
    expect(fields(def, 'etcdserverpb.StatusResponse')).toEqual({
      header: '1 message',
      version: '2 string',
      dbSize: '3 int64',
      leader: '4 uint64',
      raftIndex: '5 uint64',
      raftTerm: '6 uint64',
      raftAppliedIndex: '7 uint64',
      errors: '8 repeated string',
      dbSizeInUse: '9 int64',
      isLearner: '10 bool',
    });
    expect(fields(def, 'etcdserverpb.AlarmRequest')).toEqual({
      action: '1 enum',
      memberID: '2 uint64',
      alarm: '3 enum',
    });
    const alarmType = def['etcdserverpb.AlarmType'] as unknown as { type: EnumDescriptor };
    expect(enumValues(alarmType.type.value)).toEqual({ NONE: 0, NOSPACE: 1, CORRUPT: 2 });
  });

  it('authpb messages have etcd field names and numbers', () => {
    expect(fields(def, 'authpb.Permission')).toEqual({ permType: '1 enum', key: '2 bytes', range_end: '3 bytes' });
    expect(nestedEnum(def, 'authpb.Permission', 'Type')).toEqual({ READ: 0, WRITE: 1, READWRITE: 2 });
    expect(fields(def, 'authpb.User')).toEqual({
      name: '1 bytes',
      password: '2 bytes',
      roles: '3 repeated string',
      options: '4 message',
    });
  });

  it('decodes with the documented conventions: int64 as string, bytes as Buffer, enums by name, oneof named', () => {
    const type = def['etcdserverpb.TxnRequest'] as unknown as {
      serialize(value: object): Buffer;
      deserialize(bytes: Buffer): unknown;
    };
    const decoded = type.deserialize(
      type.serialize({
        compare: [{ key: Buffer.from('k'), target: 'MOD', result: 'LESS', mod_revision: 9_007_199_254_740_993n.toString() }],
        success: [{ request_put: { key: 'aw==', value: Buffer.from('v') } }],
      }),
    );
    expect(decoded).toEqual({
      compare: [
        {
          result: 'LESS',
          target: 'MOD',
          key: Buffer.from('k'),
          range_end: Buffer.alloc(0),
          target_union: 'mod_revision',
          mod_revision: '9007199254740993',
        },
      ],
      success: [
        {
          request: 'request_put',
          request_put: {
            key: Buffer.from('k'),
            value: Buffer.from('v'),
            lease: '0',
            prev_kv: false,
            ignore_value: false,
            ignore_lease: false,
          },
        },
      ],
      failure: [],
    });
  });
});

describe('Raft transport', () => {
  const api = loadRaftTransport();
  const def = api.packageDefinition;

  it('has Send (unary) in package k8ts.raftpb (the message stream is not gRPC)', () => {
    expect(rpcs(api.RaftTransport)).toEqual(['Send']);
    expect(api.RaftTransport.service['Send']?.path).toBe('/k8ts.raftpb.RaftTransport/Send');
  });

  it('RaftMessage carries every field of the raft Message plus the cluster id', () => {
    expect(fields(def, 'k8ts.raftpb.RaftMessage')).toEqual({
      clusterId: '1 uint64',
      type: '2 enum',
      from: '3 uint64',
      to: '4 uint64',
      term: '5 uint64',
      index: '6 uint64',
      logTerm: '7 uint64',
      entries: '8 repeated message',
      commit: '9 uint64',
      reject: '10 bool',
      rejectHintIndex: '11 uint64',
      rejectHintTerm: '12 uint64',
      snapshot: '13 message',
      context: '14 string',
      force: '15 bool',
    });
    expect(Object.keys(nestedEnum(def, 'k8ts.raftpb.RaftMessage', 'Type'))).toEqual([
      'Unspecified',
      'Vote',
      'VoteResponse',
      'PreVote',
      'PreVoteResponse',
      'Append',
      'AppendResponse',
      'Heartbeat',
      'HeartbeatResponse',
      'InstallSnapshot',
      'TimeoutNow',
      'ReadIndex',
      'ReadIndexResponse',
      // Not Raft messages: the store's forwarded proposals and their refusals share the stream.
      'ForwardedProposals',
      'RefusedProposals',
    ]);
    // Same numbers as packages/raft's EntryType enum.
    expect(nestedEnum(def, 'k8ts.raftpb.Entry', 'Type')).toEqual({ Normal: 0, Membership: 1 });
    expect(fields(def, 'k8ts.raftpb.Entry')).toEqual({ index: '1 uint64', term: '2 uint64', type: '3 enum', data: '4 bytes' });
    expect(fields(def, 'k8ts.raftpb.Membership')).toEqual({ voters: '1 repeated uint64', learners: '2 repeated uint64' });
  });
});
