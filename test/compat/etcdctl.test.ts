import { spawn } from 'node:child_process';
import { TestCluster, etcdctl, etcdctlOk, waitForLeader, type StoreKind } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * One set of checks with Debian's etcdctl 3.4, run against three real etcd 3.4 members and against
 * three k8ts-store members started with the same flags. The expectations are etcd's: every check
 * passes on etcd, so a failure on k8ts-store is a difference from etcd.
 */
const KINDS: StoreKind[] = ['etcd', 'k8ts'];

interface KvJson {
  key: string;
  value?: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease?: number;
}
interface GetJson {
  header: { revision: number };
  kvs?: KvJson[];
  more?: boolean;
  count?: number;
}
const text = (base64: string | undefined): string => Buffer.from(base64 ?? '', 'base64').toString();
const keys = (result: GetJson): string[] => (result.kvs ?? []).map((kv) => text(kv.key));

/** Polls `check` until it holds; the deadline only stops a stuck wait. */
async function until(check: () => boolean, what: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/**
 * Runs `etcdctl watch …`, then `whileRunning` (given what it printed so far), and returns what it
 * printed once `finished` holds for that.
 */
async function watchFor(endpoints: string[], args: string[], finished: (output: string) => boolean, whileRunning: (output: () => string) => Promise<void> = async () => undefined): Promise<string> {
  const child = spawn('etcdctl', ['--endpoints', endpoints.join(','), 'watch', ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.on('error', (error) => (output += `(etcdctl could not run: ${error.message})`));
  try {
    await whileRunning(() => output);
    await until(() => finished(output), () => `etcdctl watch ${args.join(' ')} to finish; it printed ${JSON.stringify(output)}`);
    return output;
  } finally {
    child.kill('SIGTERM');
  }
}

describe.each(KINDS)('etcdctl 3.4 against three %s members', (kind) => {
  let cluster: TestCluster;
  let endpoints: string[];
  const ctl = (...args: string[]): Promise<string> => etcdctlOk(endpoints, args);
  const get = async (...args: string[]): Promise<GetJson> => JSON.parse(await ctl('get', ...args, '-w', 'json')) as GetJson;
  const revision = async (): Promise<number> => (await get('__none__')).header.revision;
  const fails = async (args: string[], input?: string): Promise<string> => {
    const result = await etcdctl(endpoints, args, input === undefined ? {} : { input });
    expect(result.code, `etcdctl ${args.join(' ')} should fail`).not.toBe(0);
    return result.stderr;
  };

  beforeAll(async () => {
    cluster = await TestCluster.start(kind);
    endpoints = cluster.endpoints;
    await waitForLeader(endpoints);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  test('a fresh cluster is at revision 1', async () => {
    expect(await revision()).toBe(1);
  });

  test('put then get: revisions and versions', async () => {
    expect(await ctl('put', 'a/1', 'one')).toBe('OK\n');
    const first = await get('a/1');
    expect(first.kvs?.map((kv) => [text(kv.key), text(kv.value), kv.create_revision, kv.mod_revision, kv.version])).toEqual([['a/1', 'one', 2, 2, 1]]);
    await ctl('put', 'a/1', 'uno');
    const second = await get('a/1');
    expect(second.kvs?.map((kv) => [text(kv.value), kv.create_revision, kv.mod_revision, kv.version])).toEqual([['uno', 2, 3, 2]]);
    expect(second.header.revision).toBe(3);
  });

  test('put --prev-kv prints the previous pair', async () => {
    expect(await ctl('put', 'a/1', 'eins', '--prev-kv')).toBe('OK\na/1\nuno\n');
  });

  test('get: --prefix, a range, --from-key, --limit, --keys-only, --print-value-only, --consistency', async () => {
    for (const [key, value] of [['b/1', 'x'], ['b/2', 'yy'], ['b/3', 'z'], ['c', 'w']]) await ctl('put', key as string, value as string);
    expect(keys(await get('b/', '--prefix'))).toEqual(['b/1', 'b/2', 'b/3']);
    expect(keys(await get('b/1', 'b/3'))).toEqual(['b/1', 'b/2']);
    expect(keys(await get('b/2', '--from-key'))).toEqual(['b/2', 'b/3', 'c']);
    const limited = await get('b/', '--prefix', '--limit', '2');
    expect([keys(limited), limited.more, limited.count]).toEqual([['b/1', 'b/2'], true, 3]);
    expect(await ctl('get', 'b/', '--prefix', '--keys-only')).toBe('b/1\n\nb/2\n\nb/3\n\n');
    expect(await ctl('get', 'b/2', '--print-value-only')).toBe('yy\n');
    expect(await ctl('get', 'b/', '--prefix', '--consistency', 's', '--print-value-only')).toBe('x\nyy\nz\n');
  });

  test('get --sort-by and --order', async () => {
    await ctl('put', 'b/1', 'x2'); // b/1 now has version 2 and the newest mod revision
    const order = async (...args: string[]): Promise<string[]> => keys(await get('b/', '--prefix', ...args));
    expect(await order('--order', 'DESCEND')).toEqual(['b/3', 'b/2', 'b/1']);
    expect(await order('--sort-by', 'MODIFY', '--order', 'DESCEND')).toEqual(['b/1', 'b/3', 'b/2']);
    expect(await order('--sort-by', 'VERSION', '--order', 'DESCEND', '--limit', '1')).toEqual(['b/1']);
    expect(await order('--sort-by', 'VALUE', '--order', 'ASCEND')).toEqual(['b/1', 'b/2', 'b/3']);
    expect(await order('--sort-by', 'CREATE', '--order', 'DESCEND')).toEqual(['b/3', 'b/2', 'b/1']);
  });

  test('get --rev reads history', async () => {
    const before = await revision();
    await ctl('put', 'h', 'v1');
    await ctl('put', 'h', 'v2');
    expect(await ctl('get', 'h', '--rev', String(before + 1), '--print-value-only')).toBe('v1\n');
    expect(await ctl('get', 'h', '--rev', String(before), '--print-value-only')).toBe('');
    expect(await fails(['get', 'h', '--rev', String(before + 100)])).toContain('etcdserver: mvcc: required revision is a future revision');
  });

  test('put --ignore-value and --ignore-lease, and their errors', async () => {
    await ctl('put', 'iv', 'kept');
    await ctl('put', 'iv', '--ignore-value');
    const result = await get('iv');
    expect(result.kvs?.map((kv) => [text(kv.value), kv.version])).toEqual([['kept', 2]]);
    expect(await fails(['put', 'missing', '--ignore-value'])).toContain('etcdserver: key not found');
    expect(await fails(['put', 'missing', 'v', '--ignore-lease'])).toContain('etcdserver: key not found');
  });

  test('del: one key, --prefix, --prev-kv, --from-key', async () => {
    expect(await ctl('del', 'b/1')).toBe('1\n');
    expect(await ctl('del', 'b/1')).toBe('0\n');
    expect(await ctl('del', 'b/', '--prefix', '--prev-kv')).toBe('2\nb/2\nyy\nb/3\nz\n');
    await ctl('put', 'z/1', '1');
    await ctl('put', 'z/2', '2');
    expect(await ctl('del', 'z/', '--from-key')).toBe('2\n');
  });

  test('txn: compares, success and failure branches', async () => {
    await ctl('put', 't', 'v');
    const txn = (input: string): Promise<string> => etcdctlOk(endpoints, ['txn'], input);
    expect(await txn('value("t") = "v"\n\nput t v2\nget t\n\nput t never\n\n')).toBe('SUCCESS\n\nOK\n\nt\nv2\n');
    expect(await txn('value("t") = "v"\n\nput t never\n\nget t\n\n')).toBe('FAILURE\n\nt\nv2\n');
    expect(await txn('version("t") > "1"\nmod("t") > "0"\n\ndel t\n\n\n')).toBe('SUCCESS\n\n1\n');
    expect(await txn('create("t") = "0"\n\nput t fresh\n\n\n')).toBe('SUCCESS\n\nOK\n');
  });

  test('txn -w json: the member header on the response, only a revision on the responses inside it', async () => {
    await ctl('put', 'tj', 'v');
    await ctl('put', 'tj3', 'gone');
    const out = JSON.parse(await etcdctlOk(endpoints, ['txn', '-w', 'json'], 'value("tj") = "v"\n\nget tj\nput tj2 v2\ndel tj3\n\n\n')) as {
      header: Record<string, number>;
      responses: { Response: Record<string, { header: Record<string, number> }> }[];
    };
    expect(Object.keys(out.header).sort()).toEqual(['cluster_id', 'member_id', 'raft_term', 'revision']);
    const nested = out.responses.map((op) => Object.values(op.Response)[0]?.header);
    const revision = out.header['revision'] ?? 0;
    expect(nested).toEqual([{ revision: revision - 1 }, { revision }, { revision }]);
  });

  test('watch: live events, history from a revision, and --prev-kv', async () => {
    const start = await revision();
    // The last put ("end") marks the end of what each watch should print.
    const ended = (output: string): boolean => output.includes('w/1\nend\n');
    const live = await watchFor(endpoints, ['w', '--prefix'], ended, async (output) => {
      // etcdctl prints nothing once its watch is set up: put a marker under the prefix until it shows.
      const ready = (): boolean => output().includes('PUT\nw/ready\n');
      for (let n = 0; !ready(); n++) {
        if (n === 60) throw new Error(`etcdctl watch never showed the marker; it printed ${JSON.stringify(output())}`);
        await ctl('put', 'w/ready', String(n));
        await until(ready, () => 'the marker', 500).catch(() => undefined);
      }
      await ctl('put', 'w/1', 'a');
      await ctl('put', 'w/1', 'b');
      await ctl('del', 'w/1');
      await ctl('put', 'w/1', 'end');
    });
    // What follows the last marker put seen (its event is three lines: PUT, key, value).
    const afterMarker = live.slice(live.lastIndexOf('PUT\nw/ready\n')).split('\n').slice(3).join('\n');
    expect(afterMarker).toBe('PUT\nw/1\na\nPUT\nw/1\nb\nDELETE\nw/1\n\nPUT\nw/1\nend\n');
    const history = await watchFor(endpoints, ['w/1', '--rev', String(start + 1), '--prev-kv'], ended);
    expect(history).toBe('PUT\nw/1\na\nPUT\nw/1\na\nw/1\nb\nDELETE\nw/1\nb\nw/1\n\nPUT\nw/1\nend\n');
  });

  test('lease: grant, attach, time-to-live, keep-alive, list, revoke', async () => {
    const granted = await ctl('lease', 'grant', '30');
    const match = /^lease ([0-9a-f]+) granted with TTL\(30s\)\n$/.exec(granted);
    expect(match, granted).not.toBeNull();
    const id = match?.[1] ?? '';
    await ctl('put', 'l/1', 'v', '--lease', id);
    await ctl('put', 'l/2', 'v', '--lease', id);
    const ttl = await ctl('lease', 'timetolive', id, '--keys');
    const attached = new RegExp(`^lease ${id} granted with TTL\\(30s\\), remaining\\((29|30)s\\), attached keys\\(\\[(.*)\\]\\)\\n$`).exec(ttl);
    expect(attached, ttl).not.toBeNull();
    // etcd lists a lease's keys in Go map order: compare them as a set.
    expect(attached?.[2]?.split(' ').sort()).toEqual(['l/1', 'l/2']);
    expect(await ctl('lease', 'keep-alive', '--once', id)).toBe(`lease ${id} keepalived with TTL(30)\n`);
    expect(await ctl('lease', 'list')).toContain(id);
    expect(await ctl('lease', 'revoke', id)).toBe(`lease ${id} revoked\n`);
    expect(keys(await get('l/', '--prefix'))).toEqual([]);
    expect(await ctl('lease', 'timetolive', id)).toBe(`lease ${id} already expired\n`);
    expect(await fails(['lease', 'revoke', id])).toContain('etcdserver: requested lease not found');
    expect(await fails(['put', 'l/3', 'v', '--lease', id])).toContain('etcdserver: requested lease not found');
  });

  test('lease expiry deletes the attached keys; a short TTL is raised to the minimum', async () => {
    const granted = await ctl('lease', 'grant', '1');
    const match = /^lease ([0-9a-f]+) granted with TTL\((\d+)s\)\n$/.exec(granted);
    expect(match?.[2]).toBe('2'); // etcd's minimum TTL with the default 1 s election timeout
    await ctl('put', 'e/1', 'v', '--lease', match?.[1] ?? '');
    const deadline = Date.now() + 8000;
    while (keys(await get('e/1')).length > 0 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 250));
    expect(keys(await get('e/1'))).toEqual([]);
  });

  test('compaction: history below it is gone, with etcd’s error', async () => {
    await ctl('put', 'k', 'v1');
    const old = await revision();
    await ctl('put', 'k', 'v2');
    const now = await revision();
    expect(await ctl('compaction', String(now))).toBe(`compacted revision ${now}\n`);
    expect(await fails(['get', 'k', '--rev', String(old)])).toContain('etcdserver: mvcc: required revision has been compacted');
    expect(await ctl('get', 'k', '--rev', String(now), '--print-value-only')).toBe('v2\n');
    expect(await fails(['compaction', String(old)])).toContain('etcdserver: mvcc: required revision has been compacted');
    const watched = await watchFor(endpoints, ['k', '--rev', String(old)], (output) => output.includes('required revision has been compacted'));
    expect(watched).toContain('required revision has been compacted');
  });

  test('member list, endpoint status and health', async () => {
    const list = JSON.parse(await ctl('member', 'list', '-w', 'json')) as { members: { name: string; peerURLs: string[]; clientURLs: string[] }[] };
    expect(list.members.map((m) => m.name).sort()).toEqual(['m1', 'm2', 'm3']);
    expect(list.members.map((m) => m.clientURLs[0]).sort()).toEqual(cluster.members.map((m) => m.clientUrl).sort());
    const status = JSON.parse(await ctl('endpoint', 'status', '-w', 'json')) as { Status: { leader: number; raftTerm: number; header: { member_id: number } } }[];
    expect(status).toHaveLength(3);
    expect(new Set(status.map((s) => s.Status.leader)).size).toBe(1);
    expect(status.filter((s) => s.Status.leader === s.Status.header.member_id)).toHaveLength(1);
    const health = await etcdctl(endpoints, ['endpoint', 'health']);
    expect(health.code).toBe(0);
    expect(health.stdout + health.stderr).toMatch(/is healthy: successfully committed proposal/);
  });

  test('/health and /metrics over HTTP on the client URL', async () => {
    for (const member of cluster.members) {
      const health = await fetch(`${member.clientUrl}/health`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { health: string }).health).toBe('true');
      const metrics = await (await fetch(`${member.clientUrl}/metrics`)).text();
      expect(metrics).toMatch(/^etcd_server_has_leader 1$/m);
      expect(metrics).toMatch(/^etcd_disk_wal_fsync_duration_seconds_bucket/m);
    }
  });

  test('a put over --max-request-bytes is refused with etcd’s error and changes nothing', async () => {
    const before = await revision();
    const big = 'x'.repeat(1_700_000); // over the default 1.5 MiB, under etcdctl's 2 MiB send limit
    expect(await fails(['put', 'big'], big)).toContain('etcdserver: request is too large');
    expect(await revision()).toBe(before);
  });
});
