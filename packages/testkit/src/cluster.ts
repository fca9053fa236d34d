import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchProcess, signalAndWait, waitForExit } from './launcher.js';

export type StoreKind = 'etcd' | 'k8ts';

// packages/testkit/{src,dist}/cluster.js → the repository root.
const repoRoot = resolve(new URL('../../..', import.meta.url).pathname);
export const STORE_BINARY: Record<StoreKind, string> = {
  etcd: 'etcd',
  k8ts: join(repoRoot, 'node_modules', '.bin', 'k8ts-store'),
};

/**
 * Test ports: below Linux's ephemeral range (32768 up), so no outgoing connection takes one between
 * the check here and the child process binding it (a port the OS handed out for `listen(0)` can be),
 * and below 20000, where `freeBasePort` puts whole local clusters.
 */
const TEST_PORT_LOW = 12_000;
const TEST_PORT_HIGH = 20_000;
const handedOut = new Set<number>();

/** Ports free now, never handed out before by this process; random, so suites side by side rarely meet. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt === 1_000) throw new Error(`no ${count} free ports between ${TEST_PORT_LOW} and ${TEST_PORT_HIGH}`);
    const port = TEST_PORT_LOW + Math.floor(Math.random() * (TEST_PORT_HIGH - TEST_PORT_LOW));
    if (handedOut.has(port) || !(await portFree(port))) continue;
    handedOut.add(port);
    ports.push(port);
  }
  return ports;
}

/** Whether a TCP listener can bind the port on loopback now. */
export function portFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((done) => {
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/**
 * A TCP proxy on a member's peer link. Cutting it drops every connection and refuses new ones: the
 * member is partitioned from its peers while its clients can still reach it.
 */
export class LinkProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;
  private server: Server | undefined;

  constructor(
    readonly listenPort: number,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((inbound) => {
      if (this.cut) {
        inbound.destroy();
        return;
      }
      const outbound = connect(this.targetPort, '127.0.0.1');
      for (const [socket, other] of [[inbound, outbound], [outbound, inbound]] as const) {
        this.sockets.add(socket);
        // Either side ending ends both: a half-open link would leave the peer waiting for ~30 s.
        socket.on('close', () => {
          this.sockets.delete(socket);
          other.destroy();
        });
        socket.on('error', () => socket.destroy());
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((done) => this.server?.listen(this.listenPort, '127.0.0.1', done));
  }

  partition(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  heal(): void {
    this.cut = false;
  }

  async stop(): Promise<void> {
    this.partition();
    await new Promise((done) => this.server?.close(done));
  }
}

export interface MemberHandle {
  readonly name: string;
  readonly clientUrl: string;
  readonly endpoint: string;
  readonly dataDir: string;
  process: ChildProcess | undefined;
  /** Present when started with proxies: cuts this member's inbound peer traffic. */
  readonly proxy?: LinkProxy;
  readonly args: readonly string[];
  log: string;
}

export interface ClusterOptions {
  readonly size?: number;
  /** Put a cuttable proxy in front of every member's peer port. */
  readonly proxies?: boolean;
  /** Extra flags for every member (e.g. faster heartbeats for fault tests). */
  readonly extraArgs?: readonly string[];
}

/**
 * N members of etcd or of k8ts-store on loopback ports, started with the same etcd flags: the only
 * difference between the two kinds is the binary.
 */
export class TestCluster {
  private readonly tempDir: string;

  private constructor(
    readonly kind: StoreKind,
    readonly members: MemberHandle[],
    tempDir: string,
    private initialCluster: string,
    private readonly extraArgs: readonly string[],
  ) {
    this.tempDir = tempDir;
  }

  static async start(kind: StoreKind, options: ClusterOptions = {}): Promise<TestCluster> {
    const size = options.size ?? 3;
    const tempDir = mkdtempSync(join(tmpdir(), `${kind}-cluster-`));
    const ports = await freePorts(size * (options.proxies ? 3 : 2));
    const clientPort = (i: number): number => ports[i] ?? 0;
    const peerPort = (i: number): number => ports[size + i] ?? 0;
    // With proxies, members advertise the proxy's port; the proxy forwards to the real peer port.
    const advertisedPeerPort = (i: number): number => (options.proxies ? (ports[2 * size + i] ?? 0) : peerPort(i));
    const names = Array.from({ length: size }, (_, i) => `m${i + 1}`);
    const initialCluster = names.map((name, i) => `${name}=http://127.0.0.1:${advertisedPeerPort(i)}`).join(',');
    const members: MemberHandle[] = [];
    for (const [i, name] of names.entries()) {
      const proxy = options.proxies ? new LinkProxy(advertisedPeerPort(i), peerPort(i)) : undefined;
      await proxy?.start();
      const dataDir = join(tempDir, name);
      const args = [
        '--name', name,
        '--data-dir', dataDir,
        '--listen-client-urls', `http://127.0.0.1:${clientPort(i)}`,
        '--advertise-client-urls', `http://127.0.0.1:${clientPort(i)}`,
        '--listen-peer-urls', `http://127.0.0.1:${peerPort(i)}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${advertisedPeerPort(i)}`,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', `${kind}-test`,
        ...(options.extraArgs ?? []),
      ];
      members.push({
        name,
        clientUrl: `http://127.0.0.1:${clientPort(i)}`,
        endpoint: `127.0.0.1:${clientPort(i)}`,
        dataDir,
        process: undefined,
        ...(proxy ? { proxy } : {}),
        args,
        log: '',
      });
    }
    const cluster = new TestCluster(kind, members, tempDir, initialCluster, options.extraArgs ?? []);
    for (const member of members) cluster.launch(member);
    return cluster;
  }

  get endpoints(): string[] {
    return this.members.map((member) => member.endpoint);
  }

  launch(member: MemberHandle): void {
    member.process = launchProcess(STORE_BINARY[this.kind], member.args, { output: { into: member, limitChars: 20_000 } });
  }

  /**
   * Prepares a member that joins the running cluster (--initial-cluster-state existing). Announce it
   * first (`etcdctl member add NAME --peer-urls=PEER_URL`), then `launch` it.
   */
  async prepareJoiningMember(name: string): Promise<{ member: MemberHandle; peerUrl: string }> {
    const [clientPort, peerPort] = await freePorts(2);
    const peerUrl = `http://127.0.0.1:${peerPort ?? 0}`;
    this.initialCluster = `${this.initialCluster},${name}=${peerUrl}`;
    const dataDir = join(this.tempDir, name);
    const member: MemberHandle = {
      name,
      clientUrl: `http://127.0.0.1:${clientPort ?? 0}`,
      endpoint: `127.0.0.1:${clientPort ?? 0}`,
      dataDir,
      process: undefined,
      args: [
        '--name', name,
        '--data-dir', dataDir,
        '--listen-client-urls', `http://127.0.0.1:${clientPort ?? 0}`,
        '--advertise-client-urls', `http://127.0.0.1:${clientPort ?? 0}`,
        '--listen-peer-urls', peerUrl,
        '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', this.initialCluster,
        '--initial-cluster-state', 'existing',
        '--initial-cluster-token', `${this.kind}-test`,
        ...this.extraArgs,
      ],
      log: '',
    };
    this.members.push(member);
    return { member, peerUrl };
  }

  /** Waits for a member's process to exit on its own (e.g. after its removal); false on timeout. */
  async exited(member: MemberHandle, timeoutMs: number): Promise<boolean> {
    const child = member.process;
    if (child === undefined) return true;
    const exited = await waitForExit(child, timeoutMs);
    if (exited && member.process === child) member.process = undefined;
    return exited;
  }

  /** kill -9: the member loses everything not yet on disk. */
  async kill(member: MemberHandle, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = member.process;
    if (child === undefined || child.exitCode !== null) return;
    await signalAndWait(child, signal);
    member.process = undefined;
  }

  restart(member: MemberHandle): void {
    this.launch(member);
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => this.kill(member, 'SIGKILL')));
    await Promise.all(this.members.map((member) => member.proxy?.stop()));
    rmSync(this.tempDir, { recursive: true, force: true });
  }

  logs(): string {
    return this.members.map((member) => `--- ${member.name}\n${member.log}`).join('\n');
  }
}
