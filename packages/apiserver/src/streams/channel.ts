/**
 * The WebSocket channel protocol of exec and attach (`*.channel.k8s.io`), as kubectl 1.32 speaks it
 * to kube-apiserver: every binary message starts with its channel's byte (stdin 0, stdout 1,
 * stderr 2, error 3, resize 4); v5 adds a close signal (255, then the closed channel's byte). From
 * v4 on, the error channel carries a metav1.Status JSON; before, the error's text.
 */

/** The subprotocols this server speaks, best first (the client's order decides; see `chooseProtocol`). */
export const CHANNEL_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
export type ChannelProtocol = (typeof CHANNEL_PROTOCOLS)[number];

export const Channel = { STDIN: 0, STDOUT: 1, STDERR: 2, ERROR: 3, RESIZE: 4, CLOSE: 255 } as const;

/** The first of the client's subprotocols this server speaks (as the kubelet's wsstream picks), if any. */
export function chooseProtocol(offered: Iterable<string>): ChannelProtocol | undefined {
  for (const protocol of offered) {
    if ((CHANNEL_PROTOCOLS as readonly string[]).includes(protocol)) return protocol as ChannelProtocol;
  }
  return undefined;
}

export function channelMessage(channel: number, data: Uint8Array | string = new Uint8Array(0)): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const out = Buffer.alloc(body.length + 1);
  out[0] = channel;
  out.set(body, 1);
  return out;
}

/** What a client's message means. */
export type ClientMessage =
  | { readonly kind: 'stdin'; readonly data: Buffer }
  | { readonly kind: 'resize'; readonly width: number; readonly height: number }
  | { readonly kind: 'close'; readonly channel: number }
  | { readonly kind: 'ignored' };

export function parseClientMessage(protocol: ChannelProtocol, message: Buffer): ClientMessage {
  if (message.length === 0) return { kind: 'ignored' };
  const channel = message[0];
  const body = message.subarray(1);
  if (channel === Channel.STDIN) return { kind: 'stdin', data: body };
  if (channel === Channel.RESIZE && protocol !== 'v2.channel.k8s.io' && protocol !== 'channel.k8s.io') {
    try {
      const size = JSON.parse(body.toString('utf8')) as { Width?: unknown; Height?: unknown };
      if (typeof size.Width === 'number' && typeof size.Height === 'number') return { kind: 'resize', width: size.Width, height: size.Height };
    } catch {
      // a resize that does not parse is dropped, as the kubelet drops it
    }
    return { kind: 'ignored' };
  }
  if (channel === Channel.CLOSE && protocol === 'v5.channel.k8s.io' && body.length > 0) return { kind: 'close', channel: body[0] as number };
  return { kind: 'ignored' };
}

/** metav1.Status as the kubelet writes it on the error channel. */
export interface ChannelStatus {
  readonly metadata: Record<string, never>;
  readonly status: 'Success' | 'Failure';
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes: readonly { readonly reason?: string; readonly message: string }[] };
  readonly code?: number;
}

export function successStatus(): ChannelStatus {
  return { metadata: {}, status: 'Success' };
}

/** A command that ended with a non-zero code: kubectl exits with `ExitCode`'s message. */
export function exitCodeStatus(command: readonly string[], exitCode: number): ChannelStatus {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** An error from the runtime once the stream is open (apierrors.NewInternalError). */
export function internalErrorStatus(message: string): ChannelStatus {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500,
  };
}

/** The error channel's message for the protocol: the Status JSON from v4, the message text before. */
export function errorChannelMessage(protocol: ChannelProtocol | 'v4.channel.k8s.io', status: ChannelStatus): Buffer {
  if (protocol === 'v5.channel.k8s.io' || protocol === 'v4.channel.k8s.io') return channelMessage(Channel.ERROR, JSON.stringify(status));
  return channelMessage(Channel.ERROR, status.status === 'Success' ? '' : (status.message ?? ''));
}
