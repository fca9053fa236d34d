/**
 * The agent's side of a container's stdout and stderr: reads the shim's FIFOs, writes CRI log records
 * with CriLogWriter and hands chunks to attached clients. The shim holds the FIFOs too, so closing
 * this side (the agent going away) never disturbs the container; once the shim is killed after the
 * container ended, the FIFOs reach EOF when everything in them has been read.
 */
import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CriLogWriter } from '../../logs/cri_log_writer.js';
import { SHIM_FILES } from './shim_script.js';

export type OutputStream = 'stdout' | 'stderr';
export type OutputListener = (stream: OutputStream, chunk: Uint8Array) => void;

const DRAIN_DEADLINE_MS = 5_000;

export class ContainerOutput {
  private readonly writer: CriLogWriter;
  private readonly sockets: Socket[] = [];
  private readonly listeners = new Set<OutputListener>();
  private readonly ended: Promise<void>[] = [];

  constructor(
    containerDir: string,
    logPath: string,
    options: { maxSizeBytes: number; maxFiles: number; logger: Logger },
  ) {
    this.writer = new CriLogWriter(logPath, options);
    for (const stream of ['stdout', 'stderr'] as const) {
      const fd = openSync(join(containerDir, SHIM_FILES[stream]), constants.O_RDONLY | constants.O_NONBLOCK);
      const socket = new Socket({ fd, readable: true, writable: false });
      socket.on('data', (chunk: Buffer) => {
        this.writer.write(stream, chunk);
        for (const listener of this.listeners) listener(stream, chunk);
      });
      socket.on('error', (error) => options.logger.warn({ err: error, stream, logPath }, 'container output read failed'));
      this.ended.push(new Promise((resolve) => socket.once('close', () => resolve())));
      this.sockets.push(socket);
    }
  }

  subscribe(listener: OutputListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads until EOF on both FIFOs (their writers are gone), then closes the log. */
  async drain(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_DEADLINE_MS)));
    // An escaped process still holding the FIFO must not hold the container's end forever.
    await Promise.race([Promise.all(this.ended), deadline]);
    clearTimeout(timer);
    await this.close();
  }

  /** Stops reading (the FIFOs keep their content for the next reader) and closes the log. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.listeners.clear();
    await this.writer.close();
  }
}
