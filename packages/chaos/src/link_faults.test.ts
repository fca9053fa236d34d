import { spawn, type ChildProcess } from 'node:child_process';
import { NodeHostNetwork, runCommand, type NodeHost } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clearLinkFaults, heal, inject } from './faults.js';
import type { ChaosTarget } from './target.js';
import { CHAOS_CHAIN, dropPeers, dropRandomly, limitRate, linkFaultsInPlace, removeLinkFaults, type LinkEnd } from './link_faults.js';

/**
 * Link faults in real network namespaces: two node hosts (A, B) on a bridge whose gateway is this
 * namespace. A runs a UDP echo server; probes are sent from here or from B, and a probe run ends
 * when one of the markers sent after its probes comes back (the path is first in, first out: every
 * echo of an earlier probe has come back by then) or, for a path that is cut, at its deadline.
 */

const root = process.getuid?.() === 0;
const PORT = 7_407;

/** `echo`: answers every datagram on PORT. `probe IP COUNT SIZE DEADLINE_MS`: prints {"echoes":N,"marker":bool}. */
const PROGRAM = `
const dgram = require('node:dgram');
const [mode, ip, count, size, deadlineMs] = process.argv.slice(1);
const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
if (mode === 'echo') {
  socket.on('message', (message, from) => socket.send(message, from.port, from.address));
  socket.bind(${PORT}, () => console.log('ready'));
} else {
  let echoes = 0;
  const finish = (marker) => { console.log(JSON.stringify({ echoes, marker })); process.exit(0); };
  socket.on('message', (message) => (message[0] === 77 ? finish(true) : echoes++));
  socket.bind(0, () => {
    const probe = Buffer.alloc(Number(size), 80);
    for (let i = 0; i < Number(count); i++) socket.send(probe, ${PORT}, ip);
    setInterval(() => socket.send(Buffer.from('M'), ${PORT}, ip), 50);
    setTimeout(() => finish(false), Number(deadlineMs));
  });
}`;

let network: NodeHostNetwork;
let a: NodeHost;
let b: NodeHost;
let echo: ChildProcess;
const endOf = (host: NodeHost): LinkEnd => ({ enter: host.enter, address: host.ip });

/** Probes A from `from` (a host, or this namespace): how many echoes came back, and whether the path carried a marker. */
async function probe(from: NodeHost | undefined, count: number, options: { size?: number; deadlineMs?: number } = {}): Promise<{ echoes: number; marker: boolean }> {
  const argv = [...(from?.enter ?? []), process.execPath, '-e', PROGRAM, 'probe', a.ip, String(count), String(options.size ?? 16), String(options.deadlineMs ?? 10_000)];
  const result = await runCommand(argv[0] as string, argv.slice(1), { timeoutMs: (options.deadlineMs ?? 10_000) + 10_000 });
  if (result.code !== 0) throw new Error(`probe failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as { echoes: number; marker: boolean };
}

describe.skipIf(!root)('link faults in a node host network', () => {
  beforeAll(async () => {
    network = await NodeHostNetwork.create({ name: `lf${process.pid % 100_000}`, subnet: `172.29.${process.pid % 250}.0/24` });
    a = await network.addHost('a');
    b = await network.addHost('b');
    echo = spawn(a.enter[0] as string, [...a.enter.slice(1), process.execPath, '-e', PROGRAM, 'echo'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((ready, failed) => {
      echo.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && ready());
      echo.once('exit', (code) => failed(new Error(`echo server exited (${code})`)));
    });
  });

  afterAll(async () => {
    echo?.kill('SIGKILL');
    await network?.destroy();
  });

  test('isolation: A and B cannot reach each other either way, A still answers everyone else; removal lets B through again', async () => {
    await dropPeers(endOf(a), [b.ip]);
    expect((await linkFaultsInPlace(endOf(a))).rules).toEqual([`-A ${CHAOS_CHAIN} -s ${b.ip}/32 -j DROP`, `-A ${CHAOS_CHAIN} -d ${b.ip}/32 -j DROP`]);
    expect(await probe(b, 20, { deadlineMs: 1_500 })).toEqual({ echoes: 0, marker: false });
    expect(await probe(undefined, 20)).toEqual({ echoes: 20, marker: true });

    await removeLinkFaults(endOf(a));
    expect(await linkFaultsInPlace(endOf(a))).toEqual({ rules: [] });
    expect(await probe(b, 20)).toEqual({ echoes: 20, marker: true });
  });

  test('loss: each direction drops about the share asked for; removal drops nothing', async () => {
    await dropRandomly(endOf(a), 0.3);
    const lossy = await probe(undefined, 1_000);
    // An echo passes A's rules twice (in, then out): it comes back with probability (1 - p)².
    const perDirection = 1 - Math.sqrt(lossy.echoes / 1_000);
    expect(lossy.marker).toBe(true);
    expect(perDirection).toBeGreaterThan(0.2);
    expect(perDirection).toBeLessThan(0.4);

    await removeLinkFaults(endOf(a));
    expect(await probe(undefined, 200)).toEqual({ echoes: 200, marker: true });
  });

  test('slow link: a tbf at the rate asked on A\'s interface queues and then drops what A sends beyond it; removal takes only it away', async () => {
    await limitRate(endOf(a), 256);
    const { slowQdisc } = await linkFaultsInPlace(endOf(a));
    expect(slowQdisc).toMatchObject({ kind: 'tbf', dev: 'eth0', options: { rate: 256_000 / 8 } });
    // 300 echoes of 1,200 bytes: far more than a second's queue at 256 kbit/s.
    const slow = await probe(undefined, 300, { size: 1_200 });
    expect(slow.marker).toBe(true);
    expect(slow.echoes).toBeLessThan(300);
    expect((await linkFaultsInPlace(endOf(a))).slowQdisc?.drops).toBeGreaterThan(0);

    await removeLinkFaults(endOf(a));
    expect(await linkFaultsInPlace(endOf(a))).toEqual({ rules: [] });
    expect(await probe(undefined, 100, { size: 1_200 })).toEqual({ echoes: 100, marker: true });
  });

  test('removal is idempotent, needs no memory of the injection (a crashed run), and a new fault replaces the old', async () => {
    await removeLinkFaults(endOf(a)); // nothing there
    await dropRandomly(endOf(a), 0.5);
    await dropPeers(endOf(a), [b.ip]);
    const saved = await runCommand(a.enter[0] as string, [...a.enter.slice(1), 'iptables', '-w', '-S']);
    expect(saved.stdout.split('\n').filter((line) => line.endsWith(`-j ${CHAOS_CHAIN}`))).toEqual([`-A INPUT -j ${CHAOS_CHAIN}`, `-A FORWARD -j ${CHAOS_CHAIN}`, `-A OUTPUT -j ${CHAOS_CHAIN}`]);
    expect((await linkFaultsInPlace(endOf(a))).rules).toHaveLength(2);
    await removeLinkFaults(endOf(a));
    await removeLinkFaults(endOf(a));
    const after = await runCommand(a.enter[0] as string, [...a.enter.slice(1), 'iptables', '-w', '-S']);
    expect(after.stdout).not.toContain(CHAOS_CHAIN);
  });

  test('a root qdisc someone else put there is neither replaced nor removed; bad arguments are refused', async () => {
    const tc = (...args: string[]) => runCommand(b.enter[0] as string, [...b.enter.slice(1), 'tc', ...args]);
    expect((await tc('qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '1:', 'htb')).code).toBe(0);
    await expect(limitRate(endOf(b), 256)).rejects.toThrow(/has a root qdisc of its own \(htb 1:\): not replaced/);
    await removeLinkFaults(endOf(b));
    expect((await tc('qdisc', 'show', 'dev', 'eth0')).stdout).toMatch(/^qdisc htb 1: root/);
    expect((await tc('qdisc', 'del', 'dev', 'eth0', 'root')).code).toBe(0);

    await expect(dropRandomly(endOf(a), 1)).rejects.toThrow(/between 0 and 1/);
    await expect(dropPeers(endOf(a), [])).rejects.toThrow(/no peers/);
    await expect(dropPeers(endOf(a), ['b; reboot'])).rejects.toThrow(/not an IPv4 address/);
    await expect(limitRate({ enter: a.enter, address: '10.255.255.1' }, 100)).rejects.toThrow(/no interface holds 10.255.255.1/);
    await expect(removeLinkFaults({ enter: [], address: a.ip })).rejects.toThrow(/no network namespace of its own/);
  });

  test('faults.ts through a target: a store member cut off from its peers (their addresses from the target), loss at the scheduled share, all cleared', async () => {
    // A and B stand for store members store-1 and store-2; this namespace is their client.
    const hostOf = (part: string): NodeHost | undefined => ({ 'store-1': a, 'store-2': b })[part];
    const target = {
      description: 'two hosts',
      parts: () => ({ stores: ['store-1', 'store-2'], apiservers: [], schedulers: [], controllerManagers: [], nodes: [], nodeHosts: [], linkParts: ['store-1', 'store-2'] }),
      networkNamespace: (part: string) => hostOf(part)?.enter,
      address: (part: string) => hostOf(part)?.ip,
    } as unknown as ChaosTarget;
    await inject(target, 'partition-store', 'store-1');
    expect((await linkFaultsInPlace(endOf(a))).rules).toEqual([`-A ${CHAOS_CHAIN} -s ${b.ip}/32 -j DROP`, `-A ${CHAOS_CHAIN} -d ${b.ip}/32 -j DROP`]);
    expect(await probe(b, 10, { deadlineMs: 1_500 })).toEqual({ echoes: 0, marker: false });
    expect(await probe(undefined, 10)).toEqual({ echoes: 10, marker: true });
    await heal(target, 'partition-store', 'store-1');
    expect(await probe(b, 10)).toEqual({ echoes: 10, marker: true });

    await inject(target, 'link-loss', 'store-1', { lossPercent: 25 });
    expect((await linkFaultsInPlace(endOf(a))).rules).toEqual([`-A ${CHAOS_CHAIN} -i eth0 -m statistic --mode random --probability 0.25000000000 -j DROP`, `-A ${CHAOS_CHAIN} -o eth0 -m statistic --mode random --probability 0.25000000000 -j DROP`]);
    await inject(target, 'link-slow', 'store-2', { rateKbit: 300 });
    expect((await linkFaultsInPlace(endOf(b))).slowQdisc).toMatchObject({ kind: 'tbf', options: { rate: 300_000 / 8 } });
    // A run that crashed here leaves both: the next one clears every part the target offers.
    expect(await clearLinkFaults(target)).toEqual([]);
    expect(await linkFaultsInPlace(endOf(a))).toEqual({ rules: [] });
    expect(await linkFaultsInPlace(endOf(b))).toEqual({ rules: [] });
    await expect(inject(target, 'link-loss', 'scheduler-1')).rejects.toThrow(/scheduler-1 has no network namespace of its own in two hosts/);
  });
});
