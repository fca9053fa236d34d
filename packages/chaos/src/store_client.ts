import { Etcd3, type IOptions } from 'etcd3';

/**
 * The etcd3 client as a chaos run needs it: bound to one member, a deadline on every unary call,
 * and no retries. The client's defaults retry a failed call on any host and open a circuit breaker:
 * a retried put could take effect twice, and a history would misreport what the client did.
 */

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

const runOnce: Policy = {
  _altReturn: undefined as never,
  onSuccess: () => ({ dispose: () => undefined }),
  onFailure: () => ({ dispose: () => undefined }),
  execute: async (fn) => fn({ signal: new AbortController().signal }),
};

export function memberClient(clientUrl: string, requestTimeoutMs: number): Etcd3 {
  return new Etcd3({
    hosts: clientUrl,
    dialTimeout: requestTimeoutMs,
    faultHandling: { host: () => runOnce, global: runOnce },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
  });
}

/**
 * Asks store members whether each leads (it answers its own id as the leader it follows), over one
 * status client per member kept for the run: a target's monitor asks twice a second.
 */
export class StoreLeaderProbe {
  private readonly clients = new Map<string, Etcd3>();

  constructor(private readonly timeoutMs: number) {}

  /** False when the member does not lead or does not answer in time. */
  async leads(clientUrl: string): Promise<boolean> {
    let client = this.clients.get(clientUrl);
    if (client === undefined) {
      client = memberClient(clientUrl, this.timeoutMs);
      this.clients.set(clientUrl, client);
    }
    try {
      const status = await client.maintenance.status({});
      return String(status.header.member_id) === String(status.leader);
    } catch {
      return false;
    }
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Whether a failed request surely did not take effect: the member said it has no leader (it
 * proposed nothing), or the client never had a connection to send it on. Anything else (a deadline,
 * a dropped connection, "leader changed") may have taken effect, now or later.
 */
export function surelyNotApplied(error: unknown): boolean {
  return /etcdserver: no leader|No connection established|ECONNREFUSED/.test(errorText(error));
}
