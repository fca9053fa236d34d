import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RuntimeError, type PodSandboxConfig } from '../runtime/runtime.js';
import { masqueradeRule } from './bridge.js';
import { run, runIgnoring } from './command.js';
import { removePodNetwork } from './remove_pod_network.js';
import { namespacedNetwork, podHostname } from './namespaced_network.js';
import type { PodNetworkAttachment } from './pod_network.js';
import { canUseNamespaces, onPath } from './privileges.js';

const support = await canUseNamespaces();
const hasIptables = await onPath('iptables');

function sandboxConfig(name: string, extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig {
  return {
    uid: `uid-${name}`,
    name,
    namespace: 'default',
    attempt: 0,
    hostname: name,
    hostNetwork: false,
    logDirectory: `/nonexistent/${name}`,
    portMappings: [],
    labels: {},
    annotations: {},
    ...extra,
  };
}

/** A bridge, a podCIDR and a root dir of this run's own, so parallel runs never meet. */
interface TestNode {
  rootDir: string;
  bridgeName: string;
  podCIDR: string;
  subnet: string;
  nonMasqueradeCIDR: string;
}

async function testNode(prefixLength: number): Promise<TestNode> {
  const bytes = randomBytes(4);
  const subnet = `10.${200 + (bytes[0]! % 50)}.${bytes[1]!}`;
  return {
    rootDir: await mkdtemp(join(tmpdir(), 'k8ts-net-')),
    bridgeName: `k8t${bytes.toString('hex')}`,
    podCIDR: `${subnet}.0/${prefixLength}`,
    subnet,
    nonMasqueradeCIDR: '10.0.0.0/8',
  };
}

/** Removes what a test node may have left, whatever state the network code left it in. */
async function destroyTestNode(node: TestNode): Promise<void> {
  await removePodNetwork(node.rootDir);
  await rm(node.rootDir, { recursive: true, force: true });
}

const inNetns = (attachment: PodNetworkAttachment): string[] => attachment.enter.filter((arg) => !arg.startsWith('--uts'));

async function eth0Addresses(attachment: PodNetworkAttachment): Promise<string[]> {
  const links = JSON.parse(await run([...inNetns(attachment), 'ip', '-j', '-4', 'addr', 'show', 'dev', 'eth0'])) as {
    addr_info: { local: string; prefixlen: number }[];
  }[];
  return links.flatMap((link) => link.addr_info.map((address) => `${address.local}/${address.prefixlen}`));
}

/** A TCP server (in the pod, or in `enter`'s namespace) that answers each caller with its address as seen. */
async function startServer(enter: readonly string[], port: number): Promise<ChildProcess> {
  const script = `require('net').createServer((s) => s.end(s.remoteAddress)).listen(${port}, '0.0.0.0', () => console.log('listening'))`;
  const [command, ...args] = [...enter, process.execPath, '-e', script];
  const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) resolve();
    });
  });
  return child;
}

/** Connects to ip:port (from inside `attachment`'s pod, or from the node with none) and returns what it reads. */
function connect(attachment: PodNetworkAttachment | undefined, ip: string, port: number): Promise<string> {
  const script = `const s = require('net').connect(${port}, ${JSON.stringify(ip)}); let d = ''; s.on('data', (c) => d += c); s.on('end', () => process.stdout.write(d)); s.setTimeout(20000, () => { console.error('timeout'); process.exit(2); })`;
  return run([...(attachment?.enter ?? []), process.execPath, '-e', script]);
}

describe('podHostname', () => {
  it('is the hostname, or the pod name cut to 63 characters without a trailing dash or dot', () => {
    expect(podHostname({ hostname: 'web-0', name: 'ignored' })).toBe('web-0');
    expect(podHostname({ hostname: '', name: 'pod' })).toBe('pod');
    const long = `${'a'.repeat(61)}-.bcd`;
    expect(podHostname({ hostname: long, name: 'x' })).toBe('a'.repeat(61));
  });
});

describe.skipIf(!support.ok)('namespacedNetwork (real namespaces, bridge and veths)', () => {
  const nodes: TestNode[] = [];
  const outsideNamespaces: string[] = [];
  const servers: ChildProcess[] = [];
  afterAll(async () => {
    for (const server of servers) server.kill('SIGKILL');
    for (const node of nodes) await destroyTestNode(node);
    for (const name of outsideNamespaces) await runIgnoring(['ip', 'netns', 'del', name], /./);
  });

  it('gives pods distinct IPs, eth0, a default route, their hostname, and a path to each other and the node', async () => {
    const node = await testNode(24);
    nodes.push(node);
    const network = namespacedNetwork({ ...node, nodeIP: '192.0.2.2' });
    expect(network.mode).toBe('namespaced');

    const a = await network.setUp('sandbox-a', sandboxConfig('pod-a'));
    const b = await network.setUp('sandbox-b', sandboxConfig('pod-b', { hostname: 'web-0', subdomain: 'web' }));
    const [ipA, ipB] = [a.ips[0]!, b.ips[0]!];
    expect(ipA).not.toBe(ipB);
    for (const ip of [ipA, ipB]) expect(ip).toMatch(new RegExp(`^${node.subnet.replaceAll('.', '\\.')}\\.(\\d+)$`));
    expect([ipA, ipB]).not.toContain(`${node.subnet}.1`); // the bridge's (gateway's) address

    expect(await eth0Addresses(a)).toEqual([`${ipA}/24`]);
    expect(await eth0Addresses(b)).toEqual([`${ipB}/24`]);
    expect(await run([...inNetns(a), 'ip', 'route', 'show', 'default'])).toContain(`via ${node.subnet}.1 dev eth0`);
    expect((await run([...a.enter, 'hostname'])).trim()).toBe('pod-a');
    expect((await run([...b.enter, 'hostname'])).trim()).toBe('web-0');

    // Pod to pod over the bridge (the callee sees the caller's own address: no masquerading), and
    // node to pod (what the kubelet's probes do), from the bridge's address.
    servers.push(await startServer(b.enter, 8080));
    expect(await connect(a, ipB, 8080)).toBe(ipA);
    expect(await connect(undefined, ipB, 8080)).toBe(`${node.subnet}.1`);

    // setUp again is the same answer; a sandbox with hostNetwork gets the node's address.
    expect(await network.setUp('sandbox-a', sandboxConfig('pod-a'))).toEqual(a);
    expect(await network.setUp('sandbox-h', sandboxConfig('pod-h', { hostNetwork: true }))).toEqual({
      ips: ['192.0.2.2'],
      enter: [],
    });
  });

  it('forwards a hostPort from the node to the pod while the sandbox lives; a port in use fails the set-up', async () => {
    const node = await testNode(24);
    nodes.push(node);
    const network = namespacedNetwork({ ...node, nodeIP: '192.0.2.2' });
    const hostPort = 20000 + (Number.parseInt(node.bridgeName.slice(3, 7), 16) % 9000);
    const mappings = [{ protocol: 'TCP' as const, containerPort: 8080, hostPort, hostIP: '127.0.0.1' }];
    const pod = await network.setUp('sandbox-p', sandboxConfig('pod-p', { portMappings: mappings }));
    servers.push(await startServer(pod.enter, 8080));
    // The pod sees the proxy's connection from the bridge's address (the node's end).
    expect(await connect(undefined, '127.0.0.1', hostPort)).toBe(`${node.subnet}.1`);

    const clash = network.setUp('sandbox-q', sandboxConfig('pod-q', { portMappings: mappings }));
    await expect(clash).rejects.toThrow(`cannot open hostport 127.0.0.1:${hostPort}/TCP`);
    await network.tearDown('sandbox-p');
    await expect(connect(undefined, '127.0.0.1', hostPort)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('keeps allocations on disk: a new instance answers with the same IP and never hands one out twice', async () => {
    const node = await testNode(24);
    nodes.push(node);
    const first = namespacedNetwork({ ...node, nodeIP: '192.0.2.2' });
    const a = await first.setUp('sandbox-a', sandboxConfig('pod-a'));
    const b = await first.setUp('sandbox-b', sandboxConfig('pod-b'));

    // A restarted agent: a new instance over the same root dir.
    const second = namespacedNetwork({ ...node, nodeIP: '192.0.2.2' });
    expect(await second.setUp('sandbox-a', sandboxConfig('pod-a'))).toEqual(a);
    const c = await second.setUp('sandbox-c', sandboxConfig('pod-c'));
    expect([a.ips[0], b.ips[0]]).not.toContain(c.ips[0]);

    // A sandbox whose namespaces were lost (a reboot) is built again with its address.
    await runIgnoring(['umount', join(node.rootDir, 'network', 'ns', 'sandbox-b.net')], /not mounted/);
    const rebuilt = await second.setUp('sandbox-b', sandboxConfig('pod-b'));
    expect(rebuilt.ips).toEqual(b.ips);
    expect(await eth0Addresses(rebuilt)).toEqual([`${b.ips[0]}/24`]);
  });

  it('tearDown removes the namespaces and the veth and frees the IP; reconcile frees sandboxes gone while down', async () => {
    const node = await testNode(24);
    nodes.push(node);
    const network = namespacedNetwork({ ...node, nodeIP: '192.0.2.2' });
    const a = await network.setUp('sandbox-a', sandboxConfig('pod-a'));
    await network.setUp('sandbox-b', sandboxConfig('pod-b'));
    await network.setUp('sandbox-c', sandboxConfig('pod-c'));
    const record = JSON.parse(await readFile(join(node.rootDir, 'network', 'sandboxes', 'sandbox-a.json'), 'utf8')) as {
      hostVeth: string;
    };
    const netnsFile = join(node.rootDir, 'network', 'ns', 'sandbox-a.net');
    expect(await run(['ip', '-br', 'link', 'show', 'dev', record.hostVeth])).toContain(record.hostVeth);

    await network.tearDown('sandbox-a');
    await expect(run(['ip', 'link', 'show', 'dev', record.hostVeth])).rejects.toThrow(/does not exist/);
    expect(existsSync(netnsFile)).toBe(false);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(netnsFile);
    expect(existsSync(join(node.rootDir, 'network', 'ipam', a.ips[0]!))).toBe(false);
    await network.tearDown('sandbox-a'); // again: a no-op
    await network.tearDown('never-was');

    // The agent restarts and its runtime has only sandbox-b left.
    const restarted = namespacedNetwork({ ...node, nodeIP: '192.0.2.2' });
    expect(await restarted.reconcile(['sandbox-b'])).toEqual(['sandbox-c']);
    expect(await readdir(join(node.rootDir, 'network', 'ns'))).toEqual(['sandbox-b.net', 'sandbox-b.uts']);
    expect(Object.keys(await ipamFiles(node.rootDir))).toHaveLength(1);
    expect(await restarted.reconcile(['sandbox-b'])).toEqual([]);
  });

  it('fails with host-local IPAM’s error when the podCIDR is exhausted, leaving nothing half-made', async () => {
    const node = await testNode(30); // .1 the gateway, .2 the only pod address
    nodes.push(node);
    const network = namespacedNetwork({ ...node, nodeIP: '192.0.2.2' });
    expect((await network.setUp('sandbox-a', sandboxConfig('pod-a'))).ips).toEqual([`${node.subnet}.2`]);
    const failure = network.setUp('sandbox-b', sandboxConfig('pod-b'));
    await expect(failure).rejects.toBeInstanceOf(RuntimeError);
    await expect(failure).rejects.toThrow(
      `failed to allocate for range 0: ` +
        `no IP addresses available in range set: ${node.subnet}.1-${node.subnet}.2`,
    );
    expect(await readdir(join(node.rootDir, 'network', 'sandboxes'))).toEqual(['sandbox-a.json']);
    expect(await readdir(join(node.rootDir, 'network', 'ns'))).toEqual(['sandbox-a.net', 'sandbox-a.uts']);

    // Freeing the address lets the next pod have it.
    await network.tearDown('sandbox-a');
    expect((await network.setUp('sandbox-b', sandboxConfig('pod-b'))).ips).toEqual([`${node.subnet}.2`]);
  });

  it('sets up many sandboxes at once (and one sandbox twice at once) without a clash', async () => {
    const node = await testNode(24);
    nodes.push(node);
    const network = namespacedNetwork({ ...node, nodeIP: '192.0.2.2' });
    const ids = ['s0', 's1', 's2', 's3', 's4', 's5', 's0'];
    const attachments = await Promise.all(ids.map((id) => network.setUp(id, sandboxConfig(`pod-${id}`))));
    expect(attachments[6]).toEqual(attachments[0]);
    const ips = attachments.slice(0, 6).map((attachment) => attachment.ips[0]);
    expect(new Set(ips).size).toBe(6);
    for (const attachment of attachments.slice(0, 6)) {
      expect(await eth0Addresses(attachment)).toEqual([`${attachment.ips[0]}/24`]);
    }
    expect(Object.keys(await ipamFiles(node.rootDir)).sort()).toEqual([...ips].sort());
  });

  it.skipIf(!hasIptables)('masquerades what pods send beyond the non-masquerade CIDR', async () => {
    const node = await testNode(24);
    nodes.push(node);
    // An "outside" host: a namespace of its own on a /30 link to the node, with no route to pods.
    const tag = randomBytes(3).toString('hex');
    const outside = `k8ts-test-${tag}`;
    const base = 4 * (randomBytes(1)[0]! % 64);
    const [nodeSide, outsideSide] = [`198.51.100.${base + 1}`, `198.51.100.${base + 2}`];
    outsideNamespaces.push(outside);
    await run(['ip', 'netns', 'add', outside]);
    await run(['ip', 'link', 'add', `k8x${tag}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside]);
    await run(['ip', 'addr', 'add', `${nodeSide}/30`, 'dev', `k8x${tag}`]);
    await run(['ip', 'link', 'set', `k8x${tag}`, 'up']);
    await run(['ip', '-n', outside, 'addr', 'add', `${outsideSide}/30`, 'dev', 'eth0']);
    await run(['ip', '-n', outside, 'link', 'set', 'eth0', 'up']);

    const network = namespacedNetwork({ ...node, nodeIP: '192.0.2.2' });
    const pod = await network.setUp('sandbox-a', sandboxConfig('pod-a'));
    servers.push(await startServer(['ip', 'netns', 'exec', outside], 8081));
    expect(await connect(pod, outsideSide, 8081)).toBe(nodeSide);
  });

  it('removePodNetwork removes the bridge, the veths, the namespaces, the masquerade rule and the state', async () => {
    const node = await testNode(24);
    nodes.push(node);
    const network = namespacedNetwork({ ...node, nodeIP: '192.0.2.2', mtu: 1300 });
    const pod = await network.setUp('sandbox-a', sandboxConfig('pod-a'));
    const links = JSON.parse(await run([...inNetns(pod), 'ip', '-j', 'link', 'show', 'dev', 'eth0'])) as { mtu: number }[];
    expect(links[0]?.mtu).toBe(1300);
    const ports = JSON.parse(await run(['ip', '-j', 'link', 'show', 'master', node.bridgeName])) as { ifname: string }[];
    expect(ports).toHaveLength(1);

    await removePodNetwork(node.rootDir);
    await expect(run(['ip', 'link', 'show', 'dev', node.bridgeName])).rejects.toThrow(/does not exist/);
    await expect(run(['ip', 'link', 'show', 'dev', ports[0]!.ifname])).rejects.toThrow(/does not exist/);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(node.rootDir);
    expect(existsSync(join(node.rootDir, 'network'))).toBe(false);
    if (hasIptables) {
      await expect(run(['iptables', '-w', '-t', 'nat', '-C', ...masqueradeRule(node.podCIDR, node.nonMasqueradeCIDR)])).rejects.toThrow();
    }
    await removePodNetwork(node.rootDir); // again: nothing left to do
  });

  it('is not ready until the node has a podCIDR; a node on loopback gets MTU 1500', async () => {
    const node = await testNode(24);
    nodes.push(node);
    let podCIDR: string | undefined;
    const network = namespacedNetwork({ ...node, podCIDR: () => podCIDR, nodeIP: '127.0.0.1' });
    await expect(network.setUp('sandbox-a', sandboxConfig('pod-a'))).rejects.toThrow(
      'network is not ready: the node has no podCIDR yet',
    );
    podCIDR = node.podCIDR;
    const pod = await network.setUp('sandbox-a', sandboxConfig('pod-a'));
    expect(pod.ips[0]).toMatch(/^10\./);
    const links = JSON.parse(await run([...inNetns(pod), 'ip', '-j', 'link', 'show', 'dev', 'eth0'])) as { mtu: number }[];
    expect(links[0]?.mtu).toBe(1500);
  });
});

async function ipamFiles(rootDir: string): Promise<Record<string, string>> {
  const dir = join(rootDir, 'network', 'ipam');
  const result: Record<string, string> = {};
  for (const name of await readdir(dir)) {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) result[name] = await readFile(join(dir, name), 'utf8');
  }
  return result;
}
