import { createSocket, type Socket } from 'node:dgram';
import { FakeClock } from '@k8ts/base';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, PickBackend } from './backend.js';
import { roundRobin } from './balancers.js';
import { UdpProxy, type UdpProxyOptions } from './udp_proxy.js';
import { until } from './test_support.js';

const cleanUps: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
});

async function bound(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  cleanUps.push(() => void socket.close());
  return { socket, port: socket.address().port };
}

/** A UDP backend that answers `<name>:<datagram>` and records who sent what. */
async function backend(name: string): Promise<Backend & { seen: { port: number; text: string }[] }> {
  const { socket, port } = await bound();
  const seen: { port: number; text: string }[] = [];
  socket.on('message', (message, from) => {
    seen.push({ port: from.port, text: message.toString() });
    socket.send(`${name}:${message.toString()}`, from.port, from.address);
  });
  return { host: '127.0.0.1', port, seen };
}

/** A client socket that collects the replies it gets. */
async function client(): Promise<{ send: (text: string, port: number) => void; replies: string[]; port: number }> {
  const { socket, port } = await bound();
  const replies: string[] = [];
  socket.on('message', (message) => replies.push(message.toString()));
  return { send: (text, to) => socket.send(text, to, '127.0.0.1'), replies, port };
}

async function proxy(pickBackend: PickBackend, options: Partial<UdpProxyOptions> = {}): Promise<{ proxy: UdpProxy; port: number }> {
  const started = new UdpProxy({ host: '127.0.0.1', port: 0, pickBackend, maxFlows: 100, ...options });
  const { port } = await started.listen();
  cleanUps.push(() => started.close());
  return { proxy: started, port };
}

describe('UdpProxy', () => {
  it('relays a datagram to the backend and its reply back to the client', async () => {
    const echo = await backend('echo');
    const { proxy: udp, port } = await proxy(roundRobin([echo]).pick);
    const user = await client();
    user.send('hi', port);
    await until('the reply', () => user.replies.length === 1);
    expect(user.replies).toEqual(['echo:hi']);
    expect(udp.counters()).toEqual({ flows: 1, flowsCreated: 1, flowsExpired: 0, datagramsToBackend: 1, datagramsToClient: 1, dropped: 0 });
  });

  it('keeps a flow per client address: one backend socket each, replies to the right client', async () => {
    const first = await backend('a');
    const second = await backend('b');
    const { proxy: udp, port } = await proxy(roundRobin([first, second]).pick);
    const one = await client();
    const two = await client();
    one.send('1', port);
    await until('the first reply', () => one.replies.length === 1);
    two.send('2', port);
    await until('the second reply', () => two.replies.length === 1);
    one.send('3', port);
    await until('the third reply', () => one.replies.length === 2);
    expect(one.replies).toEqual(['a:1', 'a:3']); // the flow stays on its backend
    expect(two.replies).toEqual(['b:2']);
    expect(udp.counters()).toMatchObject({ flows: 2, flowsCreated: 2 });
    // The backend sees one proxy socket per flow, never the client's own port.
    expect(new Set(first.seen.map((seen) => seen.port)).size).toBe(1);
    expect(first.seen.map((seen) => seen.port)).not.toContain(one.port);
  });

  it('closes a flow idle for idleTimeoutMs (counted from its last datagram either way); the next datagram opens a new one', async () => {
    const clock = new FakeClock(1_000_000);
    const echo = await backend('echo');
    const { proxy: udp, port } = await proxy(roundRobin([echo]).pick, { clock, idleTimeoutMs: 5000 });
    const user = await client();
    user.send('1', port);
    await until('the first reply', () => user.replies.length === 1);
    clock.advance(3000);
    user.send('2', port);
    await until('the second reply', () => user.replies.length === 2);
    clock.advance(2000); // 5 s after the first datagram, 2 s after the last
    expect(udp.counters()).toMatchObject({ flows: 1, flowsExpired: 0 });
    clock.advance(2999);
    expect(udp.counters()).toMatchObject({ flows: 1, flowsExpired: 0 });
    clock.advance(1);
    expect(udp.counters()).toMatchObject({ flows: 0, flowsExpired: 1 });
    expect(clock.pending()).toBe(0);

    user.send('3', port);
    await until('the third reply', () => user.replies.length === 3);
    expect(udp.counters()).toMatchObject({ flows: 1, flowsCreated: 2 });
    expect(echo.seen[2]?.port).not.toBe(echo.seen[0]?.port); // a new socket towards the backend
  });

  it('drops datagrams beyond maxFlows and with no backend, and keeps serving', async () => {
    const echo = await backend('echo');
    const { proxy: udp, port } = await proxy(roundRobin([echo]).pick, { maxFlows: 1 });
    const one = await client();
    const two = await client();
    one.send('1', port);
    await until('the first reply', () => one.replies.length === 1);
    two.send('2', port);
    await until('the drop', () => udp.counters().dropped === 1);
    expect(echo.seen.map((seen) => seen.text)).toEqual(['1']);

    await udp.close(); // a second proxy with no backend at all
    const { proxy: empty, port: emptyPort } = await proxy(roundRobin([]).pick);
    two.send('3', emptyPort);
    await until('the drop', () => empty.counters().dropped === 1);
    expect(empty.counters().flows).toBe(0);
  });

  it('refuses bad options', () => {
    expect(() => new UdpProxy({ host: '127.0.0.1', port: 0, pickBackend: roundRobin([]).pick, maxFlows: 0 })).toThrow(/maxFlows/);
  });
});
