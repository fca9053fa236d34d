import { invariant } from '@k8ts/base';
import type { Membership, MembershipChange, NodeId } from './types.js';

export const EMPTY_MEMBERSHIP: Membership = { voters: [], learners: [] };

export function membershipOf(voters: readonly NodeId[], learners: readonly NodeId[] = []): Membership {
  const membership = { voters: [...voters].sort(byNumber), learners: [...learners].sort(byNumber) };
  assertWellFormed(membership);
  return membership;
}

export function isVoter(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id);
}

export function isMember(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id) || membership.learners.includes(id);
}

export function allMembers(membership: Membership): NodeId[] {
  return [...membership.voters, ...membership.learners];
}

export function quorumSize(membership: Membership): number {
  return Math.floor(membership.voters.length / 2) + 1;
}

/**
 * Applies a single-server change. Each change alters the voter set by at most one server, so any
 * majority of the old voters overlaps any majority of the new ones (Raft dissertation §4.1).
 * Returns an error message for a change that makes no sense against `current`.
 */
export function applyMembershipChange(current: Membership, change: MembershipChange): Membership | string {
  const { node } = change;
  if (!Number.isInteger(node) || node <= 0) return `invalid node id ${node}`;
  const voters = current.voters.filter((id) => id !== node);
  const learners = current.learners.filter((id) => id !== node);
  switch (change.type) {
    case 'addVoter':
      if (isVoter(current, node)) return `node ${node} is already a voter`;
      return membershipOf([...voters, node], learners);
    case 'addLearner':
      if (isMember(current, node)) return `node ${node} is already a member`;
      return membershipOf(voters, [...learners, node]);
    case 'promoteLearner':
      if (!current.learners.includes(node)) return `node ${node} is not a learner`;
      return membershipOf([...voters, node], learners);
    case 'removeNode':
      if (!isMember(current, node)) return `node ${node} is not a member`;
      if (isVoter(current, node) && voters.length === 0) return `cannot remove the last voter ${node}`;
      return membershipOf(voters, learners);
  }
}

export function sameMembership(a: Membership, b: Membership): boolean {
  return sameIds(a.voters, b.voters) && sameIds(a.learners, b.learners);
}

/**
 * A membership entry's data: the whole new membership, plus the application's context for the change
 * (e.g. the new member's name and URLs), which Raft carries but never reads.
 */
export function encodeMembership(membership: Membership, context?: string): Uint8Array {
  const body = { voters: membership.voters, learners: membership.learners, ...(context === undefined ? {} : { context }) };
  return new TextEncoder().encode(JSON.stringify(body));
}

/** The application context a membership entry carries, if any. */
export function decodeMembershipContext(data: Uint8Array): string | undefined {
  const parsed = JSON.parse(new TextDecoder().decode(data)) as { context?: unknown };
  return typeof parsed.context === 'string' ? parsed.context : undefined;
}

export function decodeMembership(data: Uint8Array): Membership {
  const parsed: unknown = JSON.parse(new TextDecoder().decode(data));
  invariant(
    typeof parsed === 'object' && parsed !== null && 'voters' in parsed && 'learners' in parsed,
    'membership entry is not {voters, learners}',
  );
  const { voters, learners } = parsed as { voters: unknown; learners: unknown };
  invariant(isIdList(voters) && isIdList(learners), 'membership entry holds non-numeric ids');
  return membershipOf(voters, learners);
}

function assertWellFormed(membership: Membership): void {
  const all = allMembers(membership);
  invariant(new Set(all).size === all.length, () => `node listed twice in membership ${JSON.stringify(membership)}`);
  invariant(all.every((id) => Number.isInteger(id) && id > 0), 'membership holds an invalid node id');
}

function isIdList(value: unknown): value is NodeId[] {
  return Array.isArray(value) && value.every((id) => typeof id === 'number');
}

function sameIds(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

function byNumber(a: number, b: number): number {
  return a - b;
}
