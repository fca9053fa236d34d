/**
 * What the store's fault and Jepsen suites share: a client that never retries behind the test's
 * back, member status, bounded waiting, and restarting a member behind its peer-link proxy.
 *
 * Timings: these suites start members with FAST_RAFT_FLAGS (50 ms heartbeats, 500 ms election
 * timeout — etcd's defaults are 100 ms and 1 s), so that a lost leader is replaced within about a
 * second and a whole fault scenario fits in a few seconds. Deadlines in the tests are derived from
 * them.
 */
import { TestCluster, type MemberHandle, type StoreKind } from '@k8ts/testkit';
import { Etcd3, type IOptions } from 'etcd3';

/**
 * The store the suites start: k8ts-store, or, with STORE_UNDER_TEST=etcd, Debian's etcd 3.4 with the
 * same flags — the referee: a check that fails on etcd expects something etcd does not do.
 */
export const STORE_UNDER_TEST: StoreKind = storeUnderTest(process.env['STORE_UNDER_TEST']);

function storeUnderTest(value: string | undefined): StoreKind {
  if (value === undefined || value === '' || value === 'k8ts') return 'k8ts';
  if (value === 'etcd') return 'etcd';
  throw new Error(`STORE_UNDER_TEST must be k8ts or etcd, not ${JSON.stringify(value)}`);
}

/** Faster Raft timings for fault tests (etcd's flags; etcd's defaults are 100 and 1000). */
export const FAST_RAFT_FLAGS: readonly string[] = ['--heartbeat-interval', '50', '--election-timeout', '500'];

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds on one monotonic clock shared by every client of a test process. */
export const now = (): number => performance.now();

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/**
 * A cockatiel policy that runs the call once. The etcd3 client's defaults retry a failed call up to
 * three times (on any host) and open a circuit breaker: a retried put could take effect twice and a
 * history would misreport what the client did, so the suites retry themselves, visibly.
 */
const runOnce: Policy = {
  _altReturn: undefined as never,
  onSuccess: () => ({ dispose: () => undefined }),
  onFailure: () => ({ dispose: () => undefined }),
  execute: async (fn) => fn({ signal: new AbortController().signal }),
};

/** An etcd3 client bound to one member, with a deadline on every unary call and no retries. */
export function storeClient(member: MemberHandle, requestTimeoutMs: number): Etcd3 {
  return new Etcd3({
    hosts: member.clientUrl,
    dialTimeout: requestTimeoutMs,
    faultHandling: { host: () => runOnce, global: runOnce },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
  });
}

export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Whether a failed request surely did not take effect: the member said it has no leader (it
 * proposed nothing: etcdserver refuses before proposing, and a leader that refuses a forwarded
 * proposal refuses before appending it), or the client never got a connection to send it on.
 * Anything else — a deadline, a dropped connection, "leader changed", "request timed out" — may
 * have taken effect, now or later.
 */
export function surelyNotApplied(error: unknown): boolean {
  return /etcdserver: no leader|No connection established|ECONNREFUSED/.test(errorText(error));
}

export interface MemberStatus {
  /** The answering member's id (a decimal string, as the API gives it). */
  readonly id: string;
  /** The leader it follows; '0' for none. */
  readonly leader: string;
  readonly raftIndex: number;
  readonly appliedIndex: number;
}

export async function memberStatus(client: Etcd3): Promise<MemberStatus> {
  const status = await client.maintenance.status({});
  return {
    id: String(status.header.member_id),
    leader: String(status.leader),
    raftIndex: Number(status.raftIndex),
    appliedIndex: Number(status.raftAppliedIndex),
  };
}

/**
 * Retries `attempt` (every `intervalMs`) until it resolves, for at most `timeoutMs`; then throws
 * its last error, prefixed with `what`.
 */
export async function eventually<T>(what: string, timeoutMs: number, attempt: () => Promise<T>, intervalMs = 50): Promise<T> {
  const deadline = now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (now() >= deadline) {
        const wrapped = new Error(`${what}: not within ${timeoutMs} ms. Last attempt: ${errorText(error)}`);
        wrapped.cause = error;
        throw wrapped;
      }
    }
    await sleep(intervalMs);
  }
}

/**
 * Waits until every given member follows the same leader and answers a linearizable read: the
 * cluster serves through each of them. Returns the index (into `clients`) of the leader.
 */
export async function waitForServing(clients: readonly Etcd3[], timeoutMs = 20_000): Promise<number> {
  return eventually('every member following one leader and serving linearizable reads', timeoutMs, async () => {
    const statuses = await Promise.all(clients.map((client) => memberStatus(client)));
    const leaders = new Set(statuses.map((status) => status.leader));
    const leader = statuses[0]?.leader ?? '0';
    if (leaders.size !== 1 || leader === '0') throw new Error(`leaders seen: ${[...leaders].join(', ')}`);
    const leaderIndex = statuses.findIndex((status) => status.id === leader);
    if (leaderIndex < 0) throw new Error(`leader ${leader} is not among the members asked`);
    await Promise.all(clients.map((client) => client.get('__serving_probe__').exec()));
    return leaderIndex;
  });
}

/**
 * Drops the connections running through a member's peer-link proxy (unless the test has it cut
 * off), so that its peers connect afresh.
 *
 * Why: while the member is not listening (not started yet, or killed), its LinkProxy still accepts
 * the peers' connections, and when its onward connection is refused it leaves the peer's side open.
 * The peer's gRPC stream then sits on a dead connection until keepalive gives up (about 30 s), so
 * for that long the peer cannot reach the member. Without a proxy the kernel would have refused or
 * reset those connections; dropping them once the member listens does what a real network would
 * have done.
 */
export function resetPeerConnections(member: MemberHandle): void {
  member.proxy?.partition();
  member.proxy?.heal();
}

/**
 * Starts three (or `size`) members of the store under test and waits until each answers on its client port;
 * with proxies, then drops the connections peers made to members that were not listening yet (see
 * resetPeerConnections). Returns the cluster and a client per member.
 */
export async function startStoreCluster(options: {
  readonly proxies: boolean;
  readonly extraArgs: readonly string[];
  readonly requestTimeoutMs: number;
  readonly size?: number;
}): Promise<{ cluster: TestCluster; clients: Etcd3[] }> {
  const cluster = await TestCluster.start(STORE_UNDER_TEST, { size: options.size ?? 3, proxies: options.proxies, extraArgs: options.extraArgs });
  const clients = cluster.members.map((member) => storeClient(member, options.requestTimeoutMs));
  try {
    await Promise.all(clients.map((client, i) => eventually(`${cluster.members[i]?.name ?? i} answering`, 20_000, () => memberStatus(client))));
  } catch (error) {
    for (const client of clients) client.close();
    await cluster.stop();
    throw error;
  }
  for (const member of cluster.members) resetPeerConnections(member);
  return { cluster, clients };
}

/**
 * Restarts a killed member on its data dir and waits until its client port answers; with a proxy,
 * then drops the peers' connections made while it was down (see resetPeerConnections), unless
 * `cutOff` says the test has it cut off (a cut proxy holds no connections anyway).
 */
export async function restartMember(cluster: TestCluster, member: MemberHandle, client: Etcd3, options: { readonly cutOff?: boolean } = {}): Promise<void> {
  cluster.restart(member);
  await eventually(`${member.name} answering after its restart`, 20_000, () => memberStatus(client));
  if (options.cutOff !== true) resetPeerConnections(member);
}

export { seededRandom } from '@k8ts/testkit';

/** Parsed JSON log lines of a member (TestCluster keeps the last 20,000 characters). */
export function logEvents(member: MemberHandle): Record<string, unknown>[] {
  return member.log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return []; // the first line of the kept tail may be cut
      }
    });
}

/**
 * Members whose process ended without the test killing it (a crash), each with its exit status and
 * the end of its log. TestCluster.kill clears `process`, so whatever exited on its own is here.
 */
export function crashedMembers(cluster: TestCluster, lines = 15): string[] {
  return cluster.members.flatMap((member) => {
    const child = member.process;
    if (child === undefined || (child.exitCode === null && child.signalCode === null)) return [];
    const tail = member.log.split('\n').slice(-lines).join('\n');
    return [`${member.name} exited (code ${String(child.exitCode)}, signal ${String(child.signalCode)}):\n${tail}`];
  });
}

/** The last lines of every member's log, for a failure report. */
export function logTails(cluster: TestCluster, lines = 40): string {
  return cluster.members
    .map((member) => {
      const child = member.process;
      const state =
        child === undefined ? 'not running (killed by the test)'
        : child.exitCode !== null || child.signalCode !== null ? `EXITED (code ${String(child.exitCode)}, signal ${String(child.signalCode)})`
        : `running, pid ${String(child.pid)}`;
      return `--- ${member.name}: ${state}\n${member.log.split('\n').slice(-lines).join('\n')}`;
    })
    .join('\n');
}
