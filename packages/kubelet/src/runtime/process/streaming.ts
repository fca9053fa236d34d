/**
 * exec and port-forward as processes: a command run inside a container's namespaces with the caller's
 * streams, and a TCP relay to 127.0.0.1:<port> inside a pod's network namespace.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { RuntimeError, type ExecResult, type PortStream, type StreamingIO } from '../runtime.js';

/** Upstream's bound on an exec probe's output (the kubelet's maxExecSyncSize is 16 MiB). */
const MAX_EXEC_SYNC_BYTES = 16 * 1024 * 1024;

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
  return 128 + (signal !== null ? (signals[signal] ?? 0) : 0);
}

/** Runs argv (already prefixed to enter the container) and collects its output, killing it after the timeout. */
export function runSync(argv: readonly string[], cwd: string | undefined, timeoutSeconds: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv as [string, ...string[]];
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd !== undefined ? { cwd } : {}), env: { PATH: process.env['PATH'] ?? '' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      if (size >= MAX_EXEC_SYNC_BYTES) return;
      const kept = chunk.subarray(0, MAX_EXEC_SYNC_BYTES - size);
      size += kept.length;
      into.push(kept);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    let timedOut = false;
    const timer =
      timeoutSeconds > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, timeoutSeconds * 1000)
        : undefined;
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new RuntimeError('Internal', `failed to exec in container: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new RuntimeError('Internal', `failed to exec in container: timeout ${timeoutSeconds}s exceeded: context deadline exceeded`));
        return;
      }
      resolve({ exitCode: exitCodeOf(code, signal), stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
  });
}

/**
 * Runs argv with the caller's streams (stdin streamed in, output streamed out; with a tty, stderr goes
 * to stdout as a terminal merges them — there is no pseudo-terminal: programs see pipes).
 */
export function runStreaming(argv: readonly string[], cwd: string | undefined, io: StreamingIO): Promise<number> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv as [string, ...string[]];
    const child = spawn(file, args, {
      stdio: [io.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      ...(cwd !== undefined ? { cwd } : {}),
      env: { PATH: process.env['PATH'] ?? '' },
    });
    const stdout = io.stdout ?? (() => {});
    const stderr = io.tty ? stdout : (io.stderr ?? (() => {}));
    child.stdout?.on('data', (chunk: Buffer) => stdout(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr(chunk));
    const abort = (): void => {
      child.kill('SIGKILL');
    };
    if (io.closed.aborted) abort();
    io.closed.addEventListener('abort', abort, { once: true });
    if (io.stdin !== undefined && child.stdin !== null) {
      const input = child.stdin;
      input.on('error', () => {}); // the command may exit without reading its input
      void (async () => {
        for await (const chunk of io.stdin!) {
          if (!input.write(chunk)) await new Promise((r) => input.once('drain', r));
        }
        input.end();
      })().catch(() => input.destroy());
    }
    child.on('error', (error) => {
      io.closed.removeEventListener('abort', abort);
      reject(new RuntimeError('Internal', `failed to exec in container: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      io.closed.removeEventListener('abort', abort);
      resolve(exitCodeOf(code, signal));
    });
  });
}

/** A relay run inside the pod's network namespace: stdin/stdout ↔ 127.0.0.1:<port>. */
const RELAY = `const s=require('net').connect(Number(process.argv[1]),'127.0.0.1');s.on('connect',()=>process.stderr.write('connected\\n'));process.stdin.pipe(s);s.pipe(process.stdout);s.on('error',e=>{process.stderr.write(e.message);process.exit(1)});`;

/**
 * Connects `stream` to 127.0.0.1:`port` in the pod's network: directly when the pod shares the node's
 * (no `enter` prefix), through a small Node relay started inside the namespace otherwise.
 */
export function forwardPort(enter: readonly string[], podDescription: string, port: number, stream: PortStream): Promise<void> {
  return enter.length === 0 ? forwardDirect(port, podDescription, stream) : forwardThroughRelay(enter, port, podDescription, stream);
}

function refused(podDescription: string, port: number, why: string): RuntimeError {
  return new RuntimeError('Internal', `failed to connect to localhost:${port} inside namespace "${podDescription}", IPv4: dial tcp4 127.0.0.1:${port}: ${why}`);
}

function pumpInput(stream: PortStream, write: (chunk: Uint8Array) => void, end: () => void, fail: () => void): void {
  void (async () => {
    for await (const chunk of stream.input) write(chunk);
    end();
  })().catch(fail);
}

function forwardDirect(port: number, podDescription: string, stream: PortStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let connected = false;
    const abort = (): void => {
      socket.destroy();
    };
    stream.closed.addEventListener('abort', abort, { once: true });
    socket.on('connect', () => {
      connected = true;
      pumpInput(stream, (chunk) => socket.write(chunk), () => socket.end(), () => socket.destroy());
    });
    socket.on('data', (chunk: Buffer) => stream.write(chunk));
    socket.on('end', () => stream.end());
    socket.on('error', (error) => {
      if (!connected) reject(refused(podDescription, port, `connect: ${(error as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'connection refused' : error.message}`));
    });
    socket.on('close', () => {
      stream.closed.removeEventListener('abort', abort);
      if (connected) {
        stream.end();
        resolve();
      }
    });
  });
}

function forwardThroughRelay(enter: readonly string[], port: number, podDescription: string, stream: PortStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = [...enter, process.execPath, '-e', RELAY, String(port)] as unknown as [string, ...string[]];
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let connected = false;
    let errorText = '';
    const abort = (): void => {
      child.kill('SIGKILL');
    };
    stream.closed.addEventListener('abort', abort, { once: true });
    child.stdin.on('error', () => {});
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (!connected && text.startsWith('connected')) {
        connected = true;
        pumpInput(stream, (c) => child.stdin.write(c), () => child.stdin.end(), () => child.kill('SIGKILL'));
      } else {
        errorText += text;
      }
    });
    child.stdout.on('data', (chunk: Buffer) => stream.write(chunk));
    child.on('error', (error) => reject(refused(podDescription, port, error.message)));
    child.on('close', () => {
      stream.closed.removeEventListener('abort', abort);
      if (connected) {
        stream.end();
        resolve();
      } else {
        reject(refused(podDescription, port, `connect: ${/ECONNREFUSED/.test(errorText) ? 'connection refused' : errorText.trim()}`));
      }
    });
  });
}
