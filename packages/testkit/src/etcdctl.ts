import { runCommand, type CommandResult } from './run.js';

export type { CommandResult } from './run.js';

/** Runs Debian's etcdctl (v3 API) against the given endpoints. */
export function etcdctl(endpoints: readonly string[], args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return runCommand('etcdctl', ['--endpoints', endpoints.join(','), '--command-timeout', '10s', ...args], { ...options, env: { ETCDCTL_API: '3' } });
}

/** etcdctl that must succeed; returns stdout. */
export async function etcdctlOk(endpoints: readonly string[], args: readonly string[], input?: string): Promise<string> {
  const result = await etcdctl(endpoints, args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`etcdctl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** Waits until every endpoint reports the same leader. */
export async function waitForLeader(endpoints: readonly string[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const result = await etcdctl(endpoints, ['endpoint', 'status', '-w', 'json'], { timeoutMs: 5000 });
    if (result.code === 0) {
      const statuses = JSON.parse(result.stdout) as { Status: { leader: number | string } }[];
      const leaders = new Set(statuses.map((status) => String(status.Status.leader)));
      if (statuses.length === endpoints.length && leaders.size === 1 && !leaders.has('0')) {
        // A linearizable read succeeds only once the leader has committed an entry of its term:
        // then the cluster serves. (A read, so tests can count revisions from 1.)
        const probe = await etcdctl(endpoints, ['get', '__probe__']);
        if (probe.code === 0) return;
      }
    }
    last = result.stderr || result.stdout;
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`no leader within ${timeoutMs}ms: ${last}`);
}
