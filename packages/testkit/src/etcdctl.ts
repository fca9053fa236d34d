import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs Debian's etcdctl (v3 API) against the given endpoints. */
export function etcdctl(endpoints: readonly string[], args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('etcdctl', ['--endpoints', endpoints.join(','), '--command-timeout', '10s', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
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
