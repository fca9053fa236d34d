import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';

export interface Upstream {
  readonly host: string;
  readonly port: number;
}

/** `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353` → host and port (53 by default). */
export function parseUpstream(text: string): Upstream {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1] as string, port: bracketed[2] ? Number(bracketed[2]) : 53 };
  if (isIPv6(text)) return { host: text, port: 53 };
  const colon = text.lastIndexOf(':');
  if (colon > 0) return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
  return { host: text, port: 53 };
}

/** Bit 9 of the flags word: the answer was truncated (RFC 1035 4.1.1). */
export function isTruncated(message: Buffer): boolean {
  return message.length >= 4 && (message.readUInt16BE(2) & 0x0200) !== 0;
}

/**
 * Sends `query` to the upstreams in order until one answers, as CoreDNS's forward plugin with
 * `policy sequential`: over UDP, again over TCP to the same upstream when the UDP answer comes back
 * truncated; over TCP from the start when `transport` is 'tcp'. Each attempt is bounded by
 * `timeoutMs`. Rejects when every upstream failed.
 */
export async function forwardQuery(query: Buffer, transport: 'udp' | 'tcp', upstreams: readonly Upstream[], timeoutMs: number): Promise<Buffer> {
  let lastError: unknown = new Error('no upstream nameserver configured');
  for (const upstream of upstreams) {
    try {
      if (transport === 'udp') {
        const answer = await udpExchange(query, upstream, timeoutMs);
        if (!isTruncated(answer)) return answer;
      }
      return await tcpExchange(query, upstream, timeoutMs);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** One query over a socket of its own; answers from elsewhere or with another id are ignored. */
export function udpExchange(query: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(upstream.host) ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    const finish = (error: Error | undefined, answer?: Buffer): void => {
      clearTimeout(timer);
      socket.removeAllListeners('message');
      socket.on('error', () => undefined);
      socket.close();
      if (error) reject(error);
      else resolve(answer as Buffer);
    };
    const timer = setTimeout(() => finish(new Error(`upstream ${upstream.host}:${upstream.port} timed out after ${timeoutMs} ms (udp)`)), timeoutMs);
    socket.on('error', (error) => finish(error));
    socket.on('message', (message, from) => {
      if (from.port !== upstream.port || message.length < 12 || message.readUInt16BE(0) !== id) return;
      finish(undefined, message);
    });
    socket.send(query, upstream.port, upstream.host, (error) => {
      if (error) finish(error);
    });
  });
}

/** One query over a TCP connection of its own (two-byte length prefix, RFC 1035 4.2.2). */
export function tcpExchange(query: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: upstream.host, port: upstream.port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | undefined, answer?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer as Buffer);
    };
    const timer = setTimeout(() => finish(new Error(`upstream ${upstream.host}:${upstream.port} timed out after ${timeoutMs} ms (tcp)`)), timeoutMs);
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish(new Error(`upstream ${upstream.host}:${upstream.port} closed the connection before answering`)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length >= 2 + length) finish(undefined, received.subarray(2, 2 + length));
    });
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(query.length);
    socket.write(Buffer.concat([prefix, query]));
  });
}
