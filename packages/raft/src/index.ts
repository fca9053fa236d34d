export { Raft } from './raft.js';
export type { RaftConfig, UnsafeRules, ProposalResult, RequestResult, RaftStatus, FollowerStatus } from './raft.js';
export { bootstrapState, joiningState } from './bootstrap.js';
export {
  applyMembershipChange,
  decodeMembership,
  decodeMembershipContext,
  encodeMembership,
  isMember,
  isVoter,
  membershipOf,
  quorumSize,
  sameMembership,
} from './membership.js';
export { ProgressState } from './progress.js';
export * from './types.js';
