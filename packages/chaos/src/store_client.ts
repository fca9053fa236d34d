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

export const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Whether a failed request surely did not take effect: the member said it has no leader (it
 * proposed nothing), or the client never had a connection to send it on. Anything else (a deadline,
 * a dropped connection, "leader changed") may have taken effect, now or later.
 */
export function surelyNotApplied(error: unknown): boolean {
  return /etcdserver: no leader|No connection established|ECONNREFUSED/.test(errorText(error));
}
