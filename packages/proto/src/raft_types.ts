/**
 * proto/k8ts/raftpb.proto's messages as decoded with PROTO_LOADER_OPTIONS (uint64 as decimal
 * strings, bytes as Buffer, enums by name). The names are packages/raft's, so converting to a raft
 * `Message` is a matter of Number() and dropping `clusterId`.
 */
import type { Int64 } from './etcd_types.js';

/** The MessageType names of packages/raft; 'Unspecified' only ever means a malformed message. */
export type RaftMessageType =
  | 'Unspecified'
  | 'Vote'
  | 'VoteResponse'
  | 'PreVote'
  | 'PreVoteResponse'
  | 'Append'
  | 'AppendResponse'
  | 'Heartbeat'
  | 'HeartbeatResponse'
  | 'InstallSnapshot'
  | 'TimeoutNow'
  | 'ReadIndex'
  | 'ReadIndexResponse'
  | 'ForwardedProposals'
  | 'RefusedProposals';

export type RaftEntryType = 'Normal' | 'Membership';

export interface RaftEntry {
  index: Int64;
  term: Int64;
  type: RaftEntryType;
  data: Buffer;
}

export interface RaftMembership {
  voters: Int64[];
  learners: Int64[];
}

export interface RaftSnapshotMeta {
  index: Int64;
  term: Int64;
  membership: RaftMembership | null;
}

export interface RaftSnapshot {
  meta: RaftSnapshotMeta | null;
  data: Buffer;
}

export interface RaftMessage {
  clusterId: Int64;
  type: RaftMessageType;
  from: Int64;
  to: Int64;
  term: Int64;
  index: Int64;
  logTerm: Int64;
  entries: RaftEntry[];
  commit: Int64;
  reject: boolean;
  rejectHintIndex: Int64;
  rejectHintTerm: Int64;
  snapshot: RaftSnapshot | null;
  /** Present only when the sender set it (a proto3 `optional`); `_context` then names it. */
  context?: string;
  _context?: 'context';
  force: boolean;
}

export type SendAck = Record<string, never>;
