import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Spawner } from './spawner.js';

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('Spawner', () => {
  const spawners: Spawner[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const spawner of spawners.splice(0)) spawner.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const make = () => {
    const spawner = new Spawner();
    spawners.push(spawner);
    return spawner;
  };

  it('runs a command with its arguments as given, and returns its status, stdout and stderr', async () => {
    const spawner = make();
    const odd = `it's "quoted" $HOME \`x\` \\ and\nsecond line\n`;
    const result = await spawner.run(['sh', '-c', 'printf "%s" "$1"; echo oops >&2; exit 3', 'sh', odd]);
    expect(result).toEqual({ code: 3, stdout: odd, stderr: 'oops\n' });
  });

  it('feeds the input to stdin, and stdin is empty without one', async () => {
    const spawner = make();
    expect((await spawner.run(['cat'], 'one\ntwo\n')).stdout).toBe('one\ntwo\n');
    expect((await spawner.run(['cat'])).stdout).toBe('');
  });

  it('reports a missing program as sh does (127, with its message)', async () => {
    const result = await make().run(['k8ts-no-such-program']);
    expect(result.code).toBe(127);
    expect(result.stderr).toMatch(/k8ts-no-such-program: not found/);
  });

  it('runs many commands at once and answers each its own', async () => {
    const spawner = make();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => spawner.run(['sh', '-c', `echo ${i}; exit ${i % 7}`])));
    results.forEach((result, i) => expect(result).toEqual({ code: i % 7, stdout: `${i}\n`, stderr: '' }));
  });

  it('starts a background process that it does not parent, with its output appended to the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spawner-test-'));
    dirs.push(dir);
    const log = join(dir, 'log');
    const marker = join(dir, 'done');
    const spawner = make();
    const pid = await spawner.start(['sh', '-c', `echo started; while [ ! -e ${marker} ]; do sleep 0.05; done; echo ended`], log);
    expect(pid).toBeGreaterThan(0);
    // Orphaned at once, as a daemon: neither this process nor the spawner waits for it.
    expect([process.pid, spawner.pid]).not.toContain(parentOf(pid));
    await vi.waitFor(() => expect(readFileSync(log, 'utf8')).toBe('started\n'));
    await spawner.run(['touch', marker]);
    await vi.waitFor(() => expect(readFileSync(log, 'utf8')).toBe('started\nended\n'));
    await vi.waitFor(() => expect(existsSync(`/proc/${pid}/stat`) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))).toBe(false));
  });

  it('rejects what waits when its shell dies, and starts a new one for the next request', async () => {
    const spawner = make();
    const waiting = spawner.run(['sleep', '30']);
    process.kill(spawner.pid!, 'SIGKILL');
    await expect(waiting).rejects.toThrow(/spawner: sh ended/);
    expect((await spawner.run(['echo', 'again'])).stdout).toBe('again\n');
  });

  it('removes its work folder when the agent dies (its input ends), and when its shell is killed', async () => {
    /** The folder the shell was given ($1), from its command line. */
    const folderOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[4]!;
    // An agent of its own (the built spawner), killed with SIGKILL: nothing of it runs after.
    const built = new URL('../../dist/spawner/spawner.js', import.meta.url).href;
    const agent = spawn(process.execPath, ['--input-type=module', '-e', `import { Spawner } from '${built}'; const s = new Spawner(); await s.run(['true']); console.log(s.pid); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const shellPid = Number(await new Promise<string>((resolve) => agent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()))));
    const agentFolder = folderOf(shellPid);
    expect(existsSync(agentFolder)).toBe(true);
    agent.kill('SIGKILL');
    await vi.waitFor(() => expect(existsSync(agentFolder)).toBe(false));

    const killed = make();
    await killed.run(['true']);
    const killedFolder = folderOf(killed.pid!);
    process.kill(killed.pid!, 'SIGKILL');
    await vi.waitFor(() => expect(existsSync(killedFolder)).toBe(false));
  });
});
