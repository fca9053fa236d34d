import type { NodeStreamSession } from '../pod_streams.js';
import { errorChannelMessage, type ChannelProtocol, type ChannelStatus } from './channel.js';
import type { SpdyConnection, SpdyStream } from './spdy.js';

/** The remote command protocols over SPDY (X-Stream-Protocol-Version), best first. */
export const SPDY_CHANNEL_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
/** How long the client has to open its streams (the kubelet's default stream creation timeout). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';
export type ChannelWriter = (stream: 'stdout' | 'stderr', chunk: Uint8Array) => Promise<void>;

export interface SpdyExecOptions {
  readonly protocol: (typeof SPDY_CHANNEL_PROTOCOLS)[number];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
  readonly session: NodeStreamSession;
  /** Called once the client's streams are open, with where the node's output goes. */
  readonly ready: (write: ChannelWriter) => void;
  /** The error stream's Status once the session ends. */
  readonly status: (result: { exitCode?: number } | { error: unknown }) => ChannelStatus;
}

/**
 * exec and attach over SPDY, as the kubelet serves them: the client opens an error stream and one
 * stream per requested channel (`streamType` header), plus a resize stream with a tty from v3 on;
 * the output streams are half-closed at the end and the Status written on the error stream.
 */
export function serveSpdyExec(connection: SpdyConnection, options: SpdyExecOptions): void {
  const streams: Partial<Record<StreamType, SpdyStream>> = {};
  const resizes = options.tty && options.protocol !== 'v2.channel.k8s.io' && options.protocol !== 'channel.k8s.io';
  const expected = 1 + Number(options.stdin) + Number(options.stdout) + Number(options.stderr && !options.tty) + Number(resizes);
  let started = false;
  let done = false;
  const timer = setTimeout(() => connection.close(), STREAM_CREATION_TIMEOUT_MS);
  connection.on('stream', (stream: SpdyStream) => {
    const type = stream.headers['streamtype'] as StreamType | undefined;
    if (started || type === undefined || !['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type) || streams[type] !== undefined) return stream.reset();
    streams[type] = stream;
    if (Object.keys(streams).length === expected) start();
  });
  connection.on('close', () => {
    clearTimeout(timer);
    if (!done) options.session.cancel();
  });

  function start(): void {
    started = true;
    clearTimeout(timer);
    const { session } = options;
    options.ready(async (kind, chunk) => {
      await (kind === 'stderr' ? streams.stderr : streams.stdout)?.write(chunk);
    });
    session.start();
    if (streams.stdin) {
      streams.stdin.onData = (chunk) => session.write(chunk);
      streams.stdin.on('end', () => session.endInput());
    }
    if (streams.resize) {
      let pending = '';
      streams.resize.onData = (chunk) => {
        pending += chunk.toString('utf8');
        // A sequence of JSON objects ({"Width":w,"Height":h}), as a json.Encoder writes them.
        for (let end = pending.indexOf('}'); end >= 0; end = pending.indexOf('}')) {
          const text = pending.slice(0, end + 1);
          pending = pending.slice(end + 1);
          try {
            const size = JSON.parse(text) as { Width?: unknown; Height?: unknown };
            if (typeof size.Width === 'number' && typeof size.Height === 'number') session.resize(size.Width, size.Height);
          } catch {
            // dropped, as the kubelet drops a resize it cannot decode
          }
        }
      };
    }
    const finish = async (result: { exitCode?: number } | { error: unknown }): Promise<void> => {
      done = true;
      streams.stdout?.end();
      streams.stderr?.end();
      const error = streams.error as SpdyStream;
      await error.write(errorChannelMessage(options.protocol as ChannelProtocol, options.status(result)).subarray(1)).catch(() => undefined);
      error.end();
      connection.close();
    };
    session.finished.then(
      (result) => finish(result),
      (failure: unknown) => finish({ error: failure }),
    );
  }
}
