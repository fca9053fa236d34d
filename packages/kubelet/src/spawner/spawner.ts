/**
 * One long-lived `sh` that forks the agent's commands for it. A spawn from the agent itself forks a
 * process of 100+ MB: on these VMs that cost ~4–5 ms of the agent's CPU, ~7 ms of the child's before
 * its exec, and blocked the agent's event loop until the child had exec'd (a third of a busy agent's
 * time). dash forks in ~1 ms, and the agent only writes a line to a pipe.
 *
 * Protocol: a request is one line the shell evals, `k8ts_run ID IN FILE ARGV...` (stdin from IN,
 * stdout and stderr into FILE.out and FILE.err, then `x ID STATUS` is written back) or
 * `k8ts_start ID LOG ARGV...` (started in the background with its output appended to LOG and
 * orphaned at once, as a daemon is, so the spawner never waits for it; `p ID PID` is written back).
 * Each reply is one write(2) shorter than PIPE_BUF, so replies of concurrent jobs never interleave.
 * Arguments are single-quoted; a newline in one is spliced in from `$nl`, as a request is one line.
 * When the agent ends, the spawner reads EOF, removes its work folder (given as $1) and ends; what
 * it started runs on.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';

const SCRIPT = [
  "nl=$(printf '\\n_'); nl=${nl%_}",
  'k8ts_run() { k8ts_id=$1 k8ts_in=$2 k8ts_file=$3; shift 3; { "$@" <"$k8ts_in" >"$k8ts_file.out" 2>"$k8ts_file.err"; echo "x $k8ts_id $?"; } & }',
  'k8ts_start() { k8ts_id=$1 k8ts_log=$2; shift 2; ( "$@" </dev/null >>"$k8ts_log" 2>&1 & echo "p $k8ts_id $!" ); }',
  'k8ts_dir=$1',
  // `jobs` reaps the finished background jobs (dash keeps them as zombies until something waits).
  'while IFS= read -r k8ts_line; do eval "$k8ts_line"; jobs >/dev/null; done',
  'rm -rf "$k8ts_dir"',
].join('\n');

export interface RunResult {
  /** The exit status, as sh reports it: 128+N for a command killed by signal N, 127 for not found. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Quotes one argument for the request line: single quotes, with newlines spliced in from `$nl`. */
export function requestQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`).replaceAll('\n', `'"$nl"'`)}'`;
}

interface Pending {
  readonly resolve: (reply: string) => void;
  readonly reject: (error: Error) => void;
}

export class Spawner {
  private child: ChildProcessByStdio<Socket, Socket, null> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dir: string | undefined;
  private buffered = '';

  /** The spawner shell's pid, while one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Runs `argv` to its end; `input` is its stdin (empty when not given). */
  async run(argv: readonly string[], input = ''): Promise<RunResult> {
    if (argv.length === 0) throw new Error('spawner: empty command');
    const id = this.nextId++;
    const file = join(this.workDir(), String(id));
    const stdin = input === '' ? '/dev/null' : `${file}.in`;
    try {
      if (input !== '') await writeFile(stdin, input);
      const status = await this.request(id, `k8ts_run ${id} ${requestQuote(stdin)} ${requestQuote(file)} ${argv.map(requestQuote).join(' ')}`);
      const [stdout, stderr] = await Promise.all([readFile(`${file}.out`, 'utf8'), readFile(`${file}.err`, 'utf8')]);
      return { code: Number(status), stdout, stderr };
    } finally {
      await Promise.all([...(input === '' ? [] : ['in']), 'out', 'err'].map((suffix) => rm(`${file}.${suffix}`, { force: true })));
    }
  }

  /** Starts `argv` in the background, its stdout and stderr appended to `logPath`; resolves its pid. */
  async start(argv: readonly string[], logPath: string): Promise<number> {
    if (argv.length === 0) throw new Error('spawner: empty command');
    const id = this.nextId++;
    return Number(await this.request(id, `k8ts_start ${id} ${requestQuote(logPath)} ${argv.map(requestQuote).join(' ')}`));
  }

  /**
   * Ends the spawner's input, as this process's end would: it removes its work folder and ends;
   * what it started runs on.
   */
  close(): void {
    if (this.child !== undefined) this.child.stdin.end();
    else if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.child = undefined;
    this.dir = undefined;
  }

  private request(id: number, line: string): Promise<string> {
    const child = this.shell();
    return new Promise<string>((resolve, reject) => {
      // Held while a reply is awaited, so a process with nothing else to do waits for it.
      if (this.pending.size === 0) child.stdout.ref();
      this.pending.set(id, { resolve, reject });
      child.stdin.write(`${line}\n`);
    });
  }

  private workDir(): string {
    this.dir ??= mkdtempSync(join(tmpdir(), 'k8ts-spawner-'));
    return this.dir;
  }

  private shell(): ChildProcessByStdio<Socket, Socket, null> {
    if (this.child !== undefined) return this.child;
    // Detached: a signal to the agent's process group (Ctrl-C) does not reach it or what it starts.
    // Its pipes are net.Sockets (ref/unref), which the stdio typings do not say.
    const dir = this.workDir();
    const child = spawn('sh', ['-c', SCRIPT, 'k8ts-spawner', dir], { detached: true, stdio: ['pipe', 'pipe', 'inherit'] }) as unknown as ChildProcessByStdio<Socket, Socket, null>;
    child.unref();
    // A write after it died: 'exit' below rejects what was waiting.
    child.stdin.on('error', () => {});
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onReplies(chunk));
    // Idle, neither keeps the agent alive (the spawner ends with it).
    child.stdout.unref();
    child.stdin.unref();
    const failed = (why: string) => {
      if (this.child === child) this.child = undefined;
      // Gone with its shell (removed by it, or here when it was killed first).
      rmSync(dir, { recursive: true, force: true });
      if (this.dir === dir) this.dir = undefined;
      this.buffered = '';
      const error = new Error(`spawner: ${why}`);
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    child.on('error', (error) => failed(`cannot run sh: ${error.message}`));
    child.on('exit', (code, signal) => failed(`sh ended (${signal ?? `exit code ${code}`})`));
    this.child = child;
    return child;
  }

  private onReplies(chunk: string): void {
    this.buffered += chunk;
    let end: number;
    while ((end = this.buffered.indexOf('\n')) >= 0) {
      const [, id, value] = this.buffered.slice(0, end).split(' ');
      this.buffered = this.buffered.slice(end + 1);
      const waiting = this.pending.get(Number(id));
      if (waiting === undefined || value === undefined) continue;
      this.pending.delete(Number(id));
      if (this.pending.size === 0) this.child?.stdout.unref();
      waiting.resolve(value);
    }
  }
}

let shared: Spawner | undefined;

/** The agent's one spawner, started on first use. */
export function sharedSpawner(): Spawner {
  shared ??= new Spawner();
  return shared;
}
