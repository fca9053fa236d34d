import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { RuntimeError, type ContainerStatus, type PortStream, type Runtime, type StreamingIO } from '@k8ts/kubelet';

/**
 * The streaming part of a runtime, for the stream tests: containers are names with a state, an
 * exec is a real process on this machine (its streams are the test's subject, not the container's
 * isolation), port-forward connects to 127.0.0.1:<port>. Anything else is not used by NodeStreamServer.
 */
export class StreamRuntimeDouble {
  readonly running = new Set<string>();
  /** Streams attached to each container's "main process": what attach reads and writes. */
  readonly attached = new Map<string, StreamingIO[]>();
  /** How many exec'd processes are alive (cancel must bring it back to zero). */
  liveProcesses = 0;
  /** Terminal sizes the exec'd processes were given (tty). */
  readonly resizes: { width: number; height: number }[] = [];

  asRuntime(): Runtime {
    return this as unknown as Runtime;
  }

  async containerStatus(id: string): Promise<Pick<ContainerStatus, 'id' | 'state'>> {
    return { id, state: this.running.has(id) ? 'running' : 'exited' };
  }

  exec(id: string, command: readonly string[], io: StreamingIO): Promise<number> {
    if (!this.running.has(id)) return Promise.reject(new RuntimeError('NotRunning', `container ${id} is not running`));
    return new Promise((resolve, reject) => {
      const [file, ...args] = command as [string, ...string[]];
      const child = spawn(file, args, { stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      this.liveProcesses++;
      const stderr = io.tty ? io.stdout : io.stderr;
      child.stdout?.on('data', (chunk: Buffer) => io.stdout?.(chunk));
      child.stderr?.on('data', (chunk: Buffer) => stderr?.(chunk));
      if (io.resize) {
        const sizes = io.resize;
        void (async () => {
          for await (const size of sizes) this.resizes.push(size);
        })().catch(() => undefined);
      }
      const kill = (): boolean => child.kill('SIGKILL');
      io.closed.addEventListener('abort', kill, { once: true });
      if (io.stdin && child.stdin) {
        const input = child.stdin;
        input.on('error', () => undefined);
        const stdin = io.stdin;
        void (async () => {
          for await (const chunk of stdin) if (!input.write(chunk)) await new Promise((drained) => input.once('drain', drained));
          input.end();
        })().catch(() => input.destroy());
      }
      child.on('error', (error) => reject(new RuntimeError('Internal', `failed to exec in container: ${error.message}`)));
      child.on('close', (code, signal) => {
        this.liveProcesses--;
        io.closed.removeEventListener('abort', kill);
        resolve(code ?? (signal === 'SIGKILL' ? 137 : 128));
      });
    });
  }

  async attach(id: string, io: StreamingIO): Promise<void> {
    if (!this.running.has(id)) throw new RuntimeError('NotRunning', `container ${id} is not running`);
    const list = this.attached.get(id) ?? [];
    list.push(io);
    this.attached.set(id, list);
    await new Promise<void>((done) => (io.closed.aborted ? done() : io.closed.addEventListener('abort', () => done(), { once: true })));
  }

  portForward(_sandboxId: string, port: number, stream: PortStream): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let connected = false;
      stream.closed.addEventListener('abort', () => socket.destroy(), { once: true });
      socket.on('connect', () => {
        connected = true;
        void (async () => {
          for await (const chunk of stream.input) socket.write(chunk);
          socket.end();
        })().catch(() => socket.destroy());
      });
      socket.on('data', (chunk: Buffer) => stream.write(chunk));
      socket.on('end', () => stream.end());
      socket.on('error', (error) => {
        if (!connected) reject(new RuntimeError('Internal', `failed to connect to localhost:${port}: ${error.message}`));
      });
      socket.on('close', () => connected && resolve());
    });
  }
}
