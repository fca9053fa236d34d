import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { FakeClock } from '@k8ts/base';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, PickBackend } from './backend.js';
import { roundRobin } from './balancers.js';
import { TcpProxy, type TcpProxyOptions } from './tcp_proxy.js';
import { closeServer, collect, echo, open, readBytes, tcpServer, until } from './test_support.js';

const cleanUps: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
});

async function server(handle: (socket: Socket) => void): Promise<Backend> {
  const started = await tcpServer(handle);
  cleanUps.push(() => closeServer(started));
  return { host: '127.0.0.1', port: started.port };
}

async function proxy(pickBackend: PickBackend, options: Partial<TcpProxyOptions> = {}): Promise<{ proxy: TcpProxy; port: number }> {
  const started = new TcpProxy({ host: '127.0.0.1', port: 0, pickBackend, maxConnections: 100, connectTimeoutMs: 5000, ...options });
  const { port } = await started.listen();
  cleanUps.push(() => started.close());
  return { proxy: started, port };
}

async function request(port: number, text: string): Promise<string> {
  const socket = await open(port);
  const result = collect(socket);
  socket.end(text);
  const { received, error } = await result;
  if (error) throw error;
  return received.toString();
}

/** Ports nothing listens on (bound by the OS, then closed): a dial there is refused. */
async function deadBackends(count: number): Promise<Backend[]> {
  // All bound before any is closed, so the OS never hands one port out twice.
  const started = await Promise.all(Array.from({ length: count }, () => tcpServer(() => {})));
  await Promise.all(started.map((listening) => closeServer(listening)));
  return started.map((listening) => ({ host: '127.0.0.1', port: listening.port }));
}

describe('TcpProxy', () => {
  it('carries bytes both ways and counts the connection', async () => {
    const backend = await server(echo);
    const { proxy: tcp, port } = await proxy(roundRobin([backend]).pick);
    const socket = await open(port);
    const reply = readBytes(socket, 5);
    socket.write('hello');
    expect((await reply).toString()).toBe('hello');
    expect(tcp.connectionStates()).toMatchObject([{ backend, spliced: true }]);
    const closed = collect(socket);
    socket.end();
    expect((await closed).error).toBeUndefined();
    await until('the connection to be forgotten', () => tcp.counters().active === 0);
    expect(tcp.counters()).toEqual({ active: 0, accepted: 1, refused: 0, failed: 0, retries: 0 });
  });

  it('passes a half-close through: the client ends its side and still gets the reply', async () => {
    const backend = await server((socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => socket.end(`got ${Buffer.concat(chunks).toString()}`));
    });
    const { port } = await proxy(roundRobin([backend]).pick);
    expect(await request(port, 'ping')).toBe('got ping');
  });

  it('passes a half-close through the other way: the backend ends first and still reads', async () => {
    const received: string[] = [];
    const backend = await server((socket) => {
      socket.end('bye early');
      socket.on('data', (chunk: Buffer) => received.push(chunk.toString()));
    });
    const { port } = await proxy(roundRobin([backend]).pick);
    const socket = await open(port);
    const ended = new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    expect(await ended).toBe('bye early');
    socket.end('still here');
    await until('the backend to read after its FIN', () => received.join('') === 'still here');
  });

  it('keeps memory bounded for a slow reader: pipes pause, nothing piles up in the proxy', async () => {
    const totalBytes = 32 * 2 ** 20;
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) % 251;
    const sender = { written: 0, waitingForDrain: false, finished: false };
    const backend = await server((socket) => {
      const pump = (): void => {
        sender.waitingForDrain = false;
        while (sender.written < totalBytes) {
          sender.written += chunk.length;
          if (!socket.write(chunk)) {
            sender.waitingForDrain = true;
            socket.once('drain', pump);
            return;
          }
        }
        sender.finished = true;
        socket.end();
      };
      pump();
    });
    const { proxy: tcp, port } = await proxy(roundRobin([backend]).pick);
    const client = await open(port); // no 'data' listener yet: the client does not read
    let mostBuffered = 0;
    const watch = setInterval(() => {
      for (const state of tcp.connectionStates()) mostBuffered = Math.max(mostBuffered, state.toClientBufferedBytes);
    }, 2);
    cleanUps.push(async () => clearInterval(watch));
    const stalled = await until('the proxy to stop reading from the backend (or the sender to finish)', () => {
      const state = tcp.connectionStates()[0];
      return sender.finished || (state !== undefined && state.backendReadPaused && sender.waitingForDrain) ? (state ?? 'finished') : undefined;
    }, 30_000);
    // The sender is blocked with most of its 32 MiB unsent, and the proxy holds at most a few socket
    // buffers' worth: the rest waits in the kernel and TCP's window, not in the proxy's memory.
    expect(sender.finished).toBe(false);
    expect(stalled).toMatchObject({ backendReadPaused: true });
    expect(tcp.connectionStates()[0]?.toClientBufferedBytes).toBeLessThanOrEqual(512 * 1024);

    const hash = createHash('sha256');
    let received = 0;
    client.on('data', (data: Buffer) => {
      received += data.length;
      hash.update(data);
    });
    const closed = collect(client);
    expect((await closed).error).toBeUndefined();
    clearInterval(watch);
    const expected = createHash('sha256');
    for (let sent = 0; sent < totalBytes; sent += chunk.length) expected.update(chunk);
    expect(received).toBe(totalBytes);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
    expect(mostBuffered).toBeLessThanOrEqual(512 * 1024);
  });

  it('resets the client when the backend resets the connection', async () => {
    const backend = await server((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const { proxy: tcp, port } = await proxy(roundRobin([backend]).pick);
    const socket = await open(port);
    const result = collect(socket);
    socket.write('boom');
    expect((await result).error?.code).toBe('ECONNRESET');
    await until('the connection to be forgotten', () => tcp.counters().active === 0);
  });

  it('closes the backend side when the client resets', async () => {
    let backendClosed = false;
    const backend = await server((socket) => socket.on('close', () => (backendClosed = true)));
    const { proxy: tcp, port } = await proxy(roundRobin([backend]).pick);
    const socket = await open(port);
    await until('the splice', () => tcp.connectionStates()[0]?.spliced);
    socket.resetAndDestroy();
    await until('the backend connection to close', () => backendClosed);
    await until('the connection to be forgotten', () => tcp.counters().active === 0);
  });

  it('tries another backend when one refuses', async () => {
    const [dead] = await deadBackends(1);
    const live = await server(echo);
    const { proxy: tcp, port } = await proxy(roundRobin([dead!, live]).pick);
    expect(await request(port, 'through')).toBe('through');
    expect(tcp.counters()).toMatchObject({ accepted: 1, failed: 0, retries: 1 });
  });

  it('resets the client when every backend refuses, or there is none', async () => {
    const dead = await deadBackends(3);
    const { proxy: tcp, port } = await proxy(roundRobin(dead).pick, { connectAttempts: 5 });
    const socket = await open(port);
    const result = collect(socket);
    socket.write('anyone?');
    expect((await result).error?.code).toBe('ECONNRESET');
    // Three distinct backends, each tried once (the round robin skips the ones that already failed);
    // the fourth pick finds none left.
    expect(tcp.counters()).toMatchObject({ accepted: 1, failed: 1, retries: 3 });

    tcp.setPickBackend(roundRobin([]).pick);
    // Reset this early, the client may see it as the connect's own error.
    const empty = await new Promise<string | undefined>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code));
      socket.on('close', () => resolve(undefined));
    });
    expect(empty).toBe('ECONNRESET');
    await until('both connections to be forgotten', () => tcp.counters().active === 0);
    expect(tcp.counters()).toMatchObject({ accepted: 2, failed: 2 });
  });

  it('stops after connectAttempts dials', async () => {
    const dead = await deadBackends(3);
    const { proxy: tcp, port } = await proxy(roundRobin(dead).pick, { connectAttempts: 2 });
    expect((await collect(await open(port))).error?.code).toBe('ECONNRESET');
    expect(tcp.counters()).toMatchObject({ failed: 1, retries: 1 });
  });

  it('gives up a dial that outlasts connectTimeoutMs and tries the next backend', async () => {
    const named = (name: string) => (socket: Socket) => socket.on('data', (chunk: Buffer) => socket.write(`${name}:${chunk.toString()}`));
    const slow = await server(named('slow'));
    const quick = await server(named('quick'));
    const clock = new FakeClock();
    // The first dial's time runs out before its connect can be seen (a microtask runs before any I/O).
    const pickBackend: PickBackend = (_client, { attempt }) => {
      if (attempt > 0) return quick;
      queueMicrotask(() => clock.advance(1000));
      return slow;
    };
    const { proxy: tcp, port } = await proxy(pickBackend, { clock, connectTimeoutMs: 1000 });
    const socket = await open(port);
    const reply = readBytes(socket, 'quick:x'.length);
    socket.write('x');
    expect((await reply).toString()).toBe('quick:x');
    expect(tcp.counters()).toMatchObject({ retries: 1, failed: 0 });
    socket.destroy();
  });

  it('closes connections over maxConnections at once, and admits again when one leaves', async () => {
    const backend = await server(echo);
    const { proxy: tcp, port } = await proxy(roundRobin([backend]).pick, { maxConnections: 2 });
    const first = await open(port);
    const second = await open(port);
    for (const socket of [first, second]) {
      const reply = readBytes(socket, 2);
      socket.write('up');
      expect((await reply).toString()).toBe('up');
    }
    const third = await open(port);
    third.write('me too');
    const refused = await collect(third);
    expect(refused.received.length).toBe(0);
    expect(tcp.counters()).toMatchObject({ active: 2, accepted: 2, refused: 1 });

    const firstClosed = collect(first);
    first.end();
    await firstClosed;
    await until('the first connection to be forgotten', () => tcp.counters().active === 1);
    expect(await request(port, 'again')).toBe('again');
    second.destroy();
  });

  it('sends new connections to the new pick after setPickBackend, leaving open ones where they are', async () => {
    const named = (name: string) => (socket: Socket) => socket.on('data', (chunk: Buffer) => socket.write(`${name}:${chunk.toString()}`));
    const a = await server(named('a'));
    const b = await server(named('b'));
    const { proxy: tcp, port } = await proxy(roundRobin([a]).pick);
    const kept = await open(port);
    let reply = readBytes(kept, 'a:1'.length);
    kept.write('1');
    expect((await reply).toString()).toBe('a:1');

    tcp.setPickBackend(roundRobin([b]).pick);
    const fresh = await open(port);
    const freshReply = readBytes(fresh, 'b:2'.length);
    fresh.write('2');
    expect((await freshReply).toString()).toBe('b:2');
    reply = readBytes(kept, 'a:3'.length);
    kept.write('3');
    expect((await reply).toString()).toBe('a:3');
    kept.destroy();
    fresh.destroy();
  });

  it('closes a connection idle for idleTimeoutMs', async () => {
    const backend = await server(echo);
    const { proxy: tcp, port } = await proxy(roundRobin([backend]).pick, { idleTimeoutMs: 100 });
    const socket = await open(port);
    const result = collect(socket);
    socket.write('x');
    const { received } = await result; // closes by itself: nothing is sent after the echo
    expect(received.toString()).toBe('x');
    await until('the connection to be forgotten', () => tcp.counters().active === 0);
  });

  it('close() ends open connections and stops listening', async () => {
    const backend = await server(echo);
    const started = new TcpProxy({ host: '127.0.0.1', port: 0, pickBackend: roundRobin([backend]).pick, maxConnections: 10, connectTimeoutMs: 1000 });
    const { port } = await started.listen();
    const socket = await open(port);
    await until('the splice', () => started.connectionStates()[0]?.spliced);
    const result = collect(socket);
    await started.close();
    await result;
    await expect(open(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses bad options and reports a port in use', async () => {
    const pickBackend = roundRobin([]).pick;
    expect(() => new TcpProxy({ host: '127.0.0.1', port: 0, pickBackend, maxConnections: 0, connectTimeoutMs: 1 })).toThrow(/maxConnections/);
    expect(() => new TcpProxy({ host: '127.0.0.1', port: 0, pickBackend, maxConnections: 1, connectTimeoutMs: 0 })).toThrow(/connectTimeoutMs/);
    const { port } = await proxy(pickBackend);
    const clash = new TcpProxy({ host: '127.0.0.1', port, pickBackend, maxConnections: 1, connectTimeoutMs: 1 });
    await expect(clash.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
