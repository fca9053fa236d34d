import { ApiError } from '@k8ts/apimachinery';
import { NatsNodeStreams, NodeStreamError, type NodeStreamSession } from '@k8ts/apiserver';
import { NodeStreamServer, RuntimeError, type Runtime, type StreamingIO } from '@k8ts/kubelet';
import { NatsServerProcess } from '@k8ts/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { silentLogger } from '../client/harness.js';

/**
 * The apiserver↔node stream protocol (packages/apiserver/src/pod_streams.ts) with both halves over a
 * real nats-server: NatsNodeStreams as the apiserver uses it, NodeStreamServer as the node agent
 * does, and a runtime whose exec the test scripts. An observer subscribed to every subject counts
 * the data frames on the wire, so the windows are checked where they matter.
 */
const WINDOW = 256 * 1024;
const FRAME = 32 * 1024;
let nats: NatsServerProcess;
let apiConnection: NatsConnection;
let nodeConnection: NatsConnection;
let observer: NatsConnection;
let streams: NatsNodeStreams;
let server: NodeStreamServer;
let execute: (command: readonly string[], io: StreamingIO) => Promise<number> = async () => 0;
const running = new Set(['c1']);
/** Data bytes seen on the wire: [kind byte of node frames 1|2, apiserver STDIN 0]. */
let wire = { stdout: 0, stdin: 0 };

const runtime = {
  containerStatus: async (id: string) => ({ id, state: running.has(id) ? 'running' : 'exited' }),
  exec: (_id: string, command: readonly string[], io: StreamingIO) => execute(command, io),
} as unknown as Runtime;

const EXEC = { kind: 'exec' as const, namespace: 'default', pod: 'p', container: 'app', command: ['x'], stdin: true, stdout: true, stderr: true, tty: false };

/** Everything published so far by either side has reached the observer. */
async function settled(): Promise<void> {
  await apiConnection.flush();
  await nodeConnection.flush();
  await observer.flush();
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 20) {
    if (waited > 60_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((tick) => setTimeout(tick, 20));
  }
}

function bytes(size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) % 251);
}

beforeAll(async () => {
  nats = await NatsServerProcess.start();
  [apiConnection, nodeConnection, observer] = (await Promise.all([1, 2, 3].map(() => connect({ servers: nats.url })))) as [NatsConnection, NatsConnection, NatsConnection];
  observer.subscribe('_INBOX.>', {
    callback: (_error, message) => {
      const data = message.data;
      // Replies to the apiserver's inbox carry node frames; the node's input subjects carry the apiserver's.
      const toApiserver = message.subject.split('.').length === 2;
      if (toApiserver && (data[0] === 1 || data[0] === 2)) wire.stdout += data.length - 1;
      if (!toApiserver && data[0] === 0) wire.stdin += data.length - 1;
    },
  });
  await observer.flush();
  streams = new NatsNodeStreams(apiConnection);
  server = new NodeStreamServer({
    nats: nodeConnection,
    nodeName: 'n1',
    runtime,
    locate: (_namespace, pod, container) => (pod === 'p' ? { podUid: 'u', logDirectory: '/tmp', ...(container === 'app' ? { containerId: 'c1' } : {}) } : undefined),
    logger: silentLogger(),
    maxBufferedBytes: 1024 * 1024,
  });
  server.start();
  await nodeConnection.flush();
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await Promise.all([apiConnection, nodeConnection, observer].map((c) => c?.close()));
  await nats?.stop();
});

describe('the apiserver↔node stream protocol over NATS', () => {
  test('output, stderr, stdin to its end, and the exit code', async () => {
    execute = async (command, io) => {
      io.stdout?.(new TextEncoder().encode(`ran ${command.join(' ')}\n`));
      io.stderr?.(new TextEncoder().encode('warn\n'));
      let input = '';
      for await (const chunk of io.stdin ?? []) input += new TextDecoder().decode(chunk);
      io.stdout?.(new TextEncoder().encode(`got ${input}`));
      return 7;
    };
    const seen: string[] = [];
    const session = await streams.open('n1', EXEC, (stream, chunk) => void seen.push(`${stream}:${new TextDecoder().decode(chunk)}`));
    session.start();
    await session.write(new TextEncoder().encode('hello '));
    await session.write(new TextEncoder().encode('world'));
    session.endInput();
    expect(await session.finished).toEqual({ exitCode: 7 });
    expect(seen).toEqual(['stdout:ran x\n', 'stderr:warn\n', 'stdout:got hello world']);
  });

  test('a container that does not run, a pod the node does not have, a node nobody serves', async () => {
    running.delete('c1');
    await expect(streams.open('n1', EXEC, () => undefined)).rejects.toEqual(new NodeStreamError('NotFound', 'container not found ("app")'));
    running.add('c1');
    await expect(streams.open('n1', { ...EXEC, container: 'other' }, () => undefined)).rejects.toBeInstanceOf(NodeStreamError);
    await expect(streams.open('n1', { kind: 'portforward', namespace: 'default', pod: 'gone', port: 80 }, () => undefined)).rejects.toEqual(
      new NodeStreamError('NotFound', 'pod not found ("gone_default")'),
    );
    const nobody = streams.open('no-such-node', EXEC, () => undefined);
    await expect(nobody).rejects.toBeInstanceOf(ApiError);
    await expect(nobody).rejects.toThrow('no node agent answers for node "no-such-node"');
  });

  test('a runtime failure after the start ends the session with its error', async () => {
    execute = async () => {
      throw new RuntimeError('NotRunning', 'container c1 is not running');
    };
    const session = await streams.open('n1', EXEC, () => undefined);
    session.start();
    await expect(session.finished).rejects.toEqual(new NodeStreamError('NotRunning', 'container c1 is not running'));
  });

  test('cancel stops the process on the node', async () => {
    let aborted!: () => void;
    let began!: () => void;
    const stopped = new Promise<void>((resolve) => (aborted = resolve));
    const running = new Promise<void>((resolve) => (began = resolve));
    execute = (_command, io) =>
      new Promise((resolve) => {
        io.closed.addEventListener('abort', () => {
          aborted();
          resolve(137);
        });
        began();
      });
    const session = await streams.open('n1', EXEC, () => undefined);
    session.start();
    await running;
    session.cancel();
    await stopped;
  });

  test('nothing runs before START: a session cancelled first never runs its command', async () => {
    let ran = false;
    execute = async () => {
      ran = true;
      return 0;
    };
    const session = await streams.open('n1', EXEC, () => undefined);
    session.cancel();
    await settled();
    expect(ran).toBe(false);
  });

  test('output beyond the window waits for the client to take it', async () => {
    const total = 900 * 1024 + 123; // within the node's 1 MiB bound on held output
    const produced = bytes(total, 1);
    execute = async (_command, io) => {
      for (let offset = 0; offset < total; offset += 10_000) io.stdout?.(produced.subarray(offset, offset + 10_000));
      return 0;
    };
    wire = { stdout: 0, stdin: 0 };
    const held: (() => void)[] = [];
    const received: Uint8Array[] = [];
    let release = false;
    const session = await streams.open('n1', { ...EXEC, stdin: false }, (_stream, chunk) => {
      received.push(chunk.slice());
      return release ? undefined : new Promise<void>((taken) => held.push(taken));
    });
    session.start();
    // The node runs the command once START reaches it: wait for its first output on the wire, then
    // for everything published since to arrive.
    await until(() => wire.stdout > 0, 'the first output on the wire');
    await settled();
    // The client has taken nothing: no more than a window went out.
    expect(wire.stdout).toBeLessThanOrEqual(WINDOW + FRAME);
    release = true;
    for (const taken of held.splice(0)) taken();
    expect(await session.finished).toEqual({ exitCode: 0 });
    expect(Buffer.concat(received).equals(Buffer.from(produced))).toBe(true);
  });

  test('a client that never reads ends its session instead of filling the node\'s memory', async () => {
    let abortedOnNode = false;
    execute = async (_command, io) => {
      io.closed.addEventListener('abort', () => (abortedOnNode = true));
      const chunk = bytes(64 * 1024, 2);
      for (let sent = 0; sent < 4 * 1024 * 1024 && !io.closed.aborted; sent += chunk.length) io.stdout?.(chunk);
      return 0;
    };
    const session = await streams.open('n1', { ...EXEC, stdin: false }, () => new Promise<void>(() => undefined));
    session.start();
    await expect(session.finished).rejects.toThrow('the client reads the output too slowly');
    expect(abortedOnNode).toBe(true);
  });

  test('keepalives hold an idle session; a node or an apiserver that goes silent ends it', async () => {
    // A second node and apiserver, on connections of their own, with 250 ms keepalives.
    const [apiSide, nodeSide] = (await Promise.all([1, 2].map(() => connect({ servers: nats.url })))) as [NatsConnection, NatsConnection];
    const quick = new NatsNodeStreams(apiSide, { keepaliveMs: 250 });
    const node = new NodeStreamServer({ nats: nodeSide, nodeName: 'n2', runtime, locate: () => ({ podUid: 'u', logDirectory: '/tmp', containerId: 'c1' }), logger: silentLogger(), keepaliveMs: 250 });
    node.start();
    await nodeSide.flush();
    const aborted: string[] = [];
    const began: string[] = [];
    execute = (command, io) =>
      new Promise((resolve) => {
        began.push(command[0] as string);
        io.closed.addEventListener('abort', () => {
          aborted.push(command[0] as string);
          resolve(137);
        });
      });
    let keepalives = 0;
    const counter = observer.subscribe('_INBOX.>', {
      callback: (_error, message) => {
        if (message.data[0] === 7 || message.data[0] === 6) keepalives++;
      },
    });
    const idle = await quick.open('n2', { ...EXEC, command: ['idle'] }, () => undefined);
    idle.start();
    let idleEnded = false;
    idle.finished.then(
      () => (idleEnded = true),
      () => (idleEnded = true),
    );
    // Both sides have sent keepalives for well over three intervals, and the session lives on.
    await until(() => keepalives >= 24, 'keepalives both ways');
    counter.unsubscribe();
    expect(idleEnded).toBe(false);
    expect(aborted).toEqual([]);
    // The node goes silent (its agent died): the apiserver's session ends.
    await node.stop().catch(() => undefined);
    await nodeSide.close();
    await expect(idle.finished).rejects.toThrow('the node agent stopped answering');
    // The apiserver goes silent: the node stops the process.
    const [apiSide2, nodeSide2] = (await Promise.all([1, 2].map(() => connect({ servers: nats.url })))) as [NatsConnection, NatsConnection];
    const node2 = new NodeStreamServer({ nats: nodeSide2, nodeName: 'n3', runtime, locate: () => ({ podUid: 'u', logDirectory: '/tmp', containerId: 'c1' }), logger: silentLogger(), keepaliveMs: 250 });
    node2.start();
    await nodeSide2.flush();
    const orphan = await new NatsNodeStreams(apiSide2, { keepaliveMs: 250 }).open('n3', { ...EXEC, command: ['orphan'] }, () => undefined);
    orphan.start();
    await until(() => began.includes('orphan'), 'the orphan to start');
    await apiSide2.close();
    await until(() => aborted.includes('orphan'), 'the node to stop the orphan');
    await node2.stop();
    await Promise.all([apiSide.close(), nodeSide2.close()]);
  });

  test('stdin beyond the window waits for the process to read it', async () => {
    let pull!: () => void;
    const pulling = new Promise<void>((resolve) => (pull = resolve));
    const consumed: Uint8Array[] = [];
    execute = async (_command, io) => {
      await pulling;
      for await (const chunk of io.stdin ?? []) consumed.push(chunk.slice());
      return 0;
    };
    wire = { stdout: 0, stdin: 0 };
    const session: NodeStreamSession = await streams.open('n1', EXEC, () => undefined);
    session.start();
    const input = bytes(2 * 1024 * 1024 + 7, 3);
    let written = false;
    const writing = session.write(input).then(() => (written = true));
    await until(() => wire.stdin > 0, 'the first input on the wire');
    await settled();
    expect(wire.stdin).toBeLessThanOrEqual(WINDOW + FRAME);
    expect(written).toBe(false);
    pull();
    await writing;
    session.endInput();
    expect(await session.finished).toEqual({ exitCode: 0 });
    expect(Buffer.concat(consumed).equals(Buffer.from(input))).toBe(true);
  });
});
