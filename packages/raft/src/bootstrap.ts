import { encodeMembership, membershipOf } from './membership.js';
import { EntryType, type NodeId, type PersistedState } from './types.js';

/**
 * The state every founding member of a new cluster starts from: one committed membership entry at
 * index 1, term 1, identical on each of them (so `context` must be too). Persist it before starting
 * the node.
 */
export function bootstrapState(voters: readonly NodeId[], context?: string): PersistedState {
  const membership = membershipOf(voters);
  return {
    hardState: { term: 1, vote: 0, commit: 1 },
    entries: [{ index: 1, term: 1, type: EntryType.Membership, data: encodeMembership(membership, context) }],
  };
}

/** The state of a node that joins an existing cluster: it knows nothing until the leader contacts it. */
export function joiningState(): PersistedState {
  return { hardState: { term: 0, vote: 0, commit: 0 }, entries: [] };
}
