/**
 * The store as `k8ts status` shows it, the way `etcdctl endpoint status` reads it: Maintenance.Status
 * of every member over the etcd v3 API (its id, the leader it knows, term, commit index — etcd's
 * `raftIndex` — and applied index); a follower's lag is the leader's commit index less its own.
 */
import { endpointStatus } from '@k8ts/bench';

/** A member's Maintenance.Status answer (@k8ts/proto's StatusResponse, as the bench's client decodes it). */
type StatusResponse = Exclude<Awaited<ReturnType<typeof endpointStatus>>, string>;

export interface MemberAnswer {
  readonly name: string;
  readonly endpoint: string;
  /** Its Status, or why it could not be read. */
  readonly status: StatusResponse | string;
}

export interface MemberSummary {
  readonly name: string;
  readonly role: 'leader' | 'follower' | 'unreachable';
  readonly term?: number;
  readonly commitIndex?: number;
  readonly appliedIndex?: number;
  /** The leader's commit index less this member's (followers only, when the leader answered). */
  readonly lag?: number;
  readonly error?: string;
}

export interface StoreSummary {
  /** The member the answering members agree leads (by the highest term's word), if any. */
  readonly leader?: string;
  readonly term?: number;
  readonly members: readonly MemberSummary[];
}

const toNumber = (value: unknown): number => Number(value);

export function summarizeStore(answers: readonly MemberAnswer[]): StoreSummary {
  const live = answers.flatMap((answer) => (typeof answer.status === 'string' ? [] : [{ name: answer.name, status: answer.status }]));
  const nameOf = new Map(live.map(({ name, status }) => [String(status.header?.member_id ?? ''), name]));
  // The word of the members in the highest term: an old leader cut off still names itself in an older one.
  const term = live.length === 0 ? undefined : Math.max(...live.map(({ status }) => toNumber(status.raftTerm)));
  const leaderId = live.find(({ status }) => toNumber(status.raftTerm) === term && toNumber(status.leader) !== 0)?.status.leader;
  const leader = leaderId === undefined ? undefined : nameOf.get(String(leaderId));
  const leaderCommit = live.find(({ name }) => name === leader)?.status.raftIndex;
  const members = answers.map((answer): MemberSummary => {
    if (typeof answer.status === 'string') return { name: answer.name, role: 'unreachable', error: answer.status };
    const commitIndex = toNumber(answer.status.raftIndex);
    const isLeader = answer.name === leader;
    return {
      name: answer.name,
      role: isLeader ? 'leader' : 'follower',
      term: toNumber(answer.status.raftTerm),
      commitIndex,
      appliedIndex: toNumber(answer.status.raftAppliedIndex),
      ...(isLeader || leaderCommit === undefined ? {} : { lag: Math.max(0, toNumber(leaderCommit) - commitIndex) }),
    };
  });
  return { ...(leader === undefined ? {} : { leader }), ...(term === undefined ? {} : { term }), members };
}

/** Asks every member at once (each with its own deadline). */
export async function readStore(members: readonly { name: string; endpoint: string }[], timeoutMs = 3_000): Promise<StoreSummary> {
  const answers = await Promise.all(members.map(async (m): Promise<MemberAnswer> => ({ ...m, status: await endpointStatus(m.endpoint, timeoutMs) })));
  return summarizeStore(answers);
}

export function formatStore(summary: StoreSummary): string[] {
  const head = summary.leader === undefined ? `store: no leader${summary.term === undefined ? '' : ` (term ${summary.term})`}` : `store: leader ${summary.leader}, term ${summary.term}`;
  const lines = [head];
  for (const m of summary.members) {
    if (m.role === 'unreachable') {
      lines.push(`  ${m.name.padEnd(10)} unreachable (${m.error})`);
      continue;
    }
    const lag = m.role === 'leader' ? '' : m.lag === undefined ? '  lag unknown' : `  lag ${m.lag}`;
    lines.push(`  ${m.name.padEnd(10)} ${m.role.padEnd(9)} term ${m.term}  commit ${m.commitIndex}  applied ${m.appliedIndex}${lag}`);
  }
  return lines;
}
