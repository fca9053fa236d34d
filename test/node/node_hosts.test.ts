import type { KubeObject } from '@k8ts/client';
import { ApiClient } from '@k8ts/client';
import { ApiServerProcess, NatsServerProcess, NodeAgentProcess, NodeHostNetwork, TestCluster, freePorts, runCommand, waitForLeader, type NodeHost } from '@k8ts/testkit';
import type { Node } from 'kubernetes-types/core/v1.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../controllers/control_plane.js';

/**
 * Node hosts in network namespaces on one bridge (kind's docker network, without docker): hosts
 * reach each other and the gateway by ip and nothing else, a cut host is unreachable both ways until
 * healed, destroy leaves nothing behind, and a node agent inside a host registers its Node with the
 * host's ip through the control plane on the gateway address.
 */

const canRun = process.getuid?.() === 0 && (await runCommand('ip', ['-V']).catch(() => ({ code: -1 }))).code === 0;

const tag = randomBytes(3).toString('hex');
const NETWORK = `k8nh${tag}`;
const SUBNET = `172.31.${randomBytes(1)[0]!}.0/24`;
/** Free on this namespace's loopback too, where nothing must answer. */
const [ECHO_PORT] = (await freePorts(1)) as [number];
/** How long a probe connection may take before it counts as failed (a cut host answers nothing at all). */
const PROBE_TIMEOUT_MS = 2_000;

/** A TCP echo server in `host` (CommonJS `node -e`), resolved once it listens on the host's ip. */
async function startEcho(host: NodeHost, port: number): Promise<ChildProcess> {
  const script = `require('node:net').createServer((s) => s.pipe(s)).listen(${port}, ${JSON.stringify(host.ip)}, () => console.log('listening'));`;
  const [command, ...prefix] = host.enter as [string, ...string[]];
  const child = spawn(command, [...prefix, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(() => {
    if (child.exitCode !== null) throw new Error(`echo server in ${host.name} exited: ${output}`);
    return output.includes('listening');
  }, 20_000, `echo server in ${host.name} listening`);
  return child;
}

/**
 * Connects from `from` (a host, or this namespace when undefined) to ip:port, sends a line and
 * reads it back: 'echo' when it came back, else the error code or 'timeout'.
 */
async function probe(from: NodeHost | undefined, ip: string, port: number): Promise<string> {
  const script = [
    `const socket = require('node:net').connect(${port}, ${JSON.stringify(ip)});`,
    `socket.setTimeout(${PROBE_TIMEOUT_MS}, () => { console.log('timeout'); process.exit(2); });`,
    `socket.on('connect', () => socket.write('hello'));`,
    `socket.on('data', (data) => { console.log(String(data) === 'hello' ? 'echo' : 'garbled'); process.exit(0); });`,
    `socket.on('error', (error) => { console.log(error.code); process.exit(1); });`,
  ].join('\n');
  const argv = [...(from?.enter ?? []), process.execPath, '-e', script];
  const result = await runCommand(argv[0]!, argv.slice(1), { timeoutMs: 20_000 });
  return result.stdout.trim() || `exit ${result.code}: ${result.stderr.trim()}`;
}

async function leftovers(): Promise<string[]> {
  const netns = (await runCommand('ip', ['netns', 'list'])).stdout.split('\n').filter((line) => line.startsWith(`${NETWORK}-`));
  const links = (await runCommand('ip', ['-o', 'link', 'show'])).stdout.split('\n').filter((line) => line.includes(NETWORK) || /: nh[0-9a-f]{12}[@:]/.test(line));
  const rules = (await runCommand('iptables', ['-w', '-S', 'FORWARD'])).stdout.split('\n').filter((line) => line.includes(NETWORK));
  return [...netns, ...links, ...rules];
}

describe.skipIf(!canRun)('node hosts in network namespaces', () => {
  let network: NodeHostNetwork;
  let a: NodeHost;
  let b: NodeHost;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    network = await NodeHostNetwork.create({ name: NETWORK, subnet: SUBNET });
    a = await network.addHost('a');
    b = await network.addHost('b');
    children.push(await startEcho(a, ECHO_PORT), await startEcho(b, ECHO_PORT));
  }, 60_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await network?.destroy();
  }, 60_000);

  it('gives each host its own address and interfaces, the gateway as default route', async () => {
    const base = SUBNET.slice(0, SUBNET.lastIndexOf('.'));
    expect(network.gateway).toBe(`${base}.1`);
    expect([a.ip, b.ip]).toEqual([`${base}.2`, `${base}.3`]);
    expect(a.netnsPath).toBe(`/run/netns/${NETWORK}-a`);
    // `enter` remounts /sys: the host sees its own interfaces there, not this namespace's.
    const interfaces = await runCommand(a.enter[0]!, [...a.enter.slice(1), 'ls', '/sys/class/net']);
    expect(interfaces.stdout.split(/\s+/).filter(Boolean).sort()).toEqual(['eth0', 'lo']);
    const route = await runCommand(a.enter[0]!, [...a.enter.slice(1), 'ip', 'route', 'show', 'default']);
    expect(route.stdout).toContain(`default via ${network.gateway} dev eth0`);
    const forwarding = await runCommand(a.enter[0]!, [...a.enter.slice(1), 'cat', '/proc/sys/net/ipv4/ip_forward']);
    expect(forwarding.stdout.trim()).toBe('1');
  });

  it('shows this machine’s cgroup hierarchies inside with enterWithCgroups (the remount of /sys hides them)', async () => {
    const hierarchy = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .find(([, target, type]) => (type === 'cgroup' || type === 'cgroup2') && target?.startsWith('/sys/fs/cgroup'))?.[1];
    if (hierarchy === undefined) return; // a machine without cgroups: nothing to show
    const probeDir = join(hierarchy, `k8nh-probe-${tag}`);
    mkdirSync(probeDir);
    try {
      const inside = (prefix: readonly string[]) => runCommand(prefix[0]!, [...prefix.slice(1), 'ls', '-d', probeDir]);
      expect((await inside(a.enterWithCgroups)).code).toBe(0);
      expect((await inside(a.enter)).code).not.toBe(0);
      // Still a's network namespace, and the command is exec'd in place: signals to the pid spawned reach it.
      const interfaces = await runCommand(a.enterWithCgroups[0]!, [...a.enterWithCgroups.slice(1), 'ls', '/sys/class/net']);
      expect(interfaces.stdout.split(/\s+/).filter(Boolean).sort()).toEqual(['eth0', 'lo']);
      const shell = spawnSync(a.enterWithCgroups[0]!, [...a.enterWithCgroups.slice(1), 'sh', '-c', 'echo $$'], { encoding: 'utf8' });
      expect(shell.stdout.trim()).toBe(String(shell.pid));
    } finally {
      rmdirSync(probeDir);
    }
  });

  it('lets hosts reach each other and the gateway by ip, and nothing on another host’s loopback', async () => {
    expect(await probe(a, b.ip, ECHO_PORT)).toBe('echo');
    expect(await probe(b, a.ip, ECHO_PORT)).toBe('echo');
    expect(await probe(undefined, b.ip, ECHO_PORT)).toBe('echo');
    // Each server listens in its own host's namespace only: a's loopback, or this one's, has nothing.
    expect(await probe(a, '127.0.0.1', ECHO_PORT)).toBe('ECONNREFUSED');
    expect(await probe(undefined, '127.0.0.1', ECHO_PORT)).toBe('ECONNREFUSED');
  }, 60_000);

  it('cuts a host off for real and heals it', async () => {
    expect(await probe(b, a.ip, ECHO_PORT)).toBe('echo');
    await network.cut(b);
    // Both ways, from the other host and from the gateway; b's server still runs all along.
    const unreachable = /^(timeout|EHOSTUNREACH|ENETUNREACH)$/;
    expect(await probe(a, network.gateway, 1)).toBe('ECONNREFUSED'); // a still reaches the gateway: only b is cut
    expect(await probe(a, b.ip, ECHO_PORT)).toMatch(unreachable);
    expect(await probe(b, a.ip, ECHO_PORT)).toMatch(unreachable);
    expect(await probe(undefined, b.ip, ECHO_PORT)).toMatch(unreachable);
    expect(children.map((child) => child.exitCode)).toEqual([null, null]);
    await network.heal(b);
    await eventually(async () => (await probe(a, b.ip, ECHO_PORT)) === 'echo', 20_000, 'b reachable again');
    expect(await probe(b, a.ip, ECHO_PORT)).toBe('echo');
  }, 60_000);

  it('removes a host, and destroy leaves no namespace, veth or bridge (twice is fine)', async () => {
    const c = await network.addHost('c');
    expect(c.ip).toBe(SUBNET.replace(/0\/24$/, '4'));
    await network.removeHost(c);
    expect(network.hosts.map((host) => host.name)).toEqual(['a', 'b']);
    expect((await leftovers()).some((line) => line.includes(`${NETWORK}-c`))).toBe(false);
    // A crashed run's leftovers are found by name: a run that never destroyed its network, then
    // another under the same name (which starts by clearing them), then the static destroy.
    const otherSubnet = SUBNET.replace(/^172\.31\./, '172.30.');
    const crashed = await NodeHostNetwork.create({ name: `${NETWORK}x`, subnet: otherSubnet });
    const z = await crashed.addHost('z');
    const again = await NodeHostNetwork.create({ name: `${NETWORK}x`, subnet: otherSubnet });
    expect((await runCommand('ip', ['netns', 'list'])).stdout).not.toContain(z.netns);
    await again.addHost('y');
    await NodeHostNetwork.destroy(`${NETWORK}x`);
    await network.destroy();
    await network.destroy();
    expect(await leftovers()).toEqual([]);
    await expect(network.addHost('d')).rejects.toThrow(/destroyed/);
  }, 60_000);
});

describe.skipIf(!canRun)('a node agent in a node host', () => {
  const name = `k8na${tag}`;
  let network: NodeHostNetwork;
  let cluster: TestCluster | undefined;
  let apiserver: ApiServerProcess | undefined;
  let nats: NatsServerProcess | undefined;
  let agent: NodeAgentProcess | undefined;
  let client: ApiClient | undefined;

  afterAll(async () => {
    await agent?.stop();
    await agent?.cleanUp();
    client?.close();
    await apiserver?.stop();
    await nats?.stop();
    await cluster?.stop();
    await network?.destroy();
  }, 120_000);

  it('registers its Node with the host ip as InternalIP and becomes Ready, through the gateway', async () => {
    network = await NodeHostNetwork.create({ name, subnet: SUBNET.replace(/^172\.31\./, '172.29.') });
    const host = await network.addHost('node1');
    cluster = await TestCluster.start('k8ts', { size: 1 });
    await waitForLeader(cluster.endpoints, 20_000);
    nats = await NatsServerProcess.start({ host: network.gateway });
    apiserver = await ApiServerProcess.start(cluster.endpoints, { bindAddress: network.gateway, grpc: true, extraArgs: ['--nats-url', nats.url] });
    expect(apiserver.grpcAddress).toMatch(new RegExp(`^${network.gateway.replaceAll('.', '\\.')}:\\d+$`));
    agent = await NodeAgentProcess.start([apiserver.grpcAddress!], {
      nodeName: `hosted-${tag}`,
      host,
      natsUrl: nats.url,
      extraArgs: ['--pod-network', 'host', '--node-status-update-frequency', '1s'],
    });
    expect(agent.healthUrl).toBe(`http://${host.ip}:${new URL(agent.healthUrl).port}`);
    client = new ApiClient({ addresses: [apiserver.grpcAddress!] });
    const nodes = client.resource<Node & KubeObject>('', 'v1', 'nodes');
    let node: Node | undefined;
    await eventually(async () => {
      node = await nodes.get(`hosted-${tag}`).catch(() => undefined);
      return node?.status?.conditions?.find((condition) => condition.type === 'Ready')?.status === 'True';
    }, 60_000, 'the hosted Node Ready');
    expect(node?.status?.addresses).toContainEqual({ type: 'InternalIP', address: host.ip });
    // Its servers are on the host's ip only: this namespace reaches them through the bridge, until cut.
    expect((await fetch(`${agent.healthUrl}/healthz`)).ok).toBe(true);
    await network.cut(host);
    await expect(fetch(`${agent.healthUrl}/healthz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })).rejects.toThrow();
    await network.heal(host);
    await agent.waitHealthy(20_000);
  }, 180_000);
});
