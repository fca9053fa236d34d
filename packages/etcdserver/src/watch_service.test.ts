import { createServer, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { GrpcServer, loadEtcdApi } from '@k8ts/proto';
import { afterEach, describe, expect, test } from 'vitest';
import { WatchHub } from './watch_hub.js';
import { watchService } from './watch_service.js';
import { MemoryHistory, bytes, eventually, put } from './test_support.js';

type Wire = Record<string, unknown>;

const api = loadEtcdApi();
const MiB = 1024 * 1024;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A Watch service over an in-memory history, on the store's gRPC server, and a real (grpc-js) client for it. */
async function watchServer(maxUnsentBytes: number): Promise<{ history: MemoryHistory; hub: WatchHub; client: grpc.Client; write: (key: string, value: string) => void }> {
  const history = new MemoryHistory();
  const hub = new WatchHub(history);
  const header = () => ({ cluster_id: '1', member_id: '2', revision: String(history.currentRevision()), raft_term: '3' });
  const server = new GrpcServer();
  server.addService(api.Watch.service, watchService({ header, watches: hub }, { maxUnsentBytes }));
  const listener = createServer((socket) => server.acceptConnection(socket));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  const client = new api.Watch(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  cleanups.push(() => {
    client.close();
    server.close();
    listener.close();
  });
  /** One applied put, as the state machine publishes it. */
  const write = (key: string, value: string): void => {
    const event = put(key, history.currentRevision() + 1, undefined, '0', value);
    history.events.push(event);
    hub.publish([event]);
  };
  return { history, hub, client, write };
}

interface Watcher {
  readonly call: grpc.ClientDuplexStream<Wire, Wire>;
  readonly responses: Wire[];
  /** Mod revisions of every event received, in order. */
  revisions(): number[];
}

async function watch(client: grpc.Client, create: Wire): Promise<Watcher> {
  const call = (client as unknown as { Watch(): grpc.ClientDuplexStream<Wire, Wire> }).Watch();
  const responses: Wire[] = [];
  call.on('data', (response: Wire) => responses.push(response));
  call.on('error', () => undefined); // the stream ends with the test's server
  call.write({ create_request: create });
  await eventually(() => (responses.some((response) => response['created'] === true) ? true : undefined));
  const revisions = (): number[] =>
    responses.flatMap((response) => ((response['events'] ?? []) as Array<{ kv: Wire }>).map((event) => Number(event.kv['mod_revision'])));
  return { call, responses, revisions };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('watchService: a consumer that does not read', () => {
  test('its stream falls behind by bytes unsent (large values cross the limit, as many tiny ones do not), then catches up from history', async () => {
    const { hub, client, write } = await watchServer(1 * MiB);
    const watcher = await watch(client, { key: bytes('k') });
    watcher.call.pause();

    for (let i = 0; i < 20; i++) write('k', 'tiny');
    expect(hub.size()).toBe(1); // still live: twenty small responses are far below 1 MiB

    for (let i = 0; i < 20; i++) write('k', 'x'.repeat(100_000));
    expect(hub.size()).toBe(0); // twenty 100 kB responses are not: the watch left the live path
    for (let i = 0; i < 5; i++) write('k', 'while behind');
    expect(hub.size()).toBe(0);

    // Reading again, the client gets every revision once, in order: what was queued, then history.
    watcher.call.resume();
    await eventually(() => (watcher.revisions().length === 45 ? true : undefined));
    expect(watcher.revisions()).toEqual(range(1, 45));
    await eventually(() => (hub.size() === 1 ? true : undefined));
    write('k', 'live again');
    await eventually(() => (watcher.revisions().length === 46 ? true : undefined));
    expect(watcher.revisions()).toEqual(range(1, 46));
    expect(watcher.responses.every((response) => response['canceled'] !== true)).toBe(true);
  });

  test('history compacted while it was behind: the watch is cancelled with the compact revision, as etcd does', async () => {
    const { history, hub, client, write } = await watchServer(1 * MiB);
    const watcher = await watch(client, { key: bytes('k') });
    watcher.call.pause();
    for (let i = 0; i < 20; i++) write('k', 'x'.repeat(100_000));
    expect(hub.size()).toBe(0);
    write('k', 'missed');
    write('k', 'missed');
    history.compacted = history.currentRevision();

    watcher.call.resume();
    const cancelled = await eventually(() => watcher.responses.find((response) => response['canceled'] === true));
    expect(cancelled).toMatchObject({ compact_revision: String(history.compacted), cancel_reason: 'mvcc: required revision has been compacted' });
    // What was queued before it fell behind arrived, in order and before the cancellation; nothing after.
    const received = watcher.revisions();
    expect(received).toEqual(range(1, received.length));
    expect(received.length).toBeLessThan(20);
    expect(watcher.responses.at(-1)).toBe(cancelled);
    expect(hub.size()).toBe(0);
  });

  test('a long replay comes at most 1,000 revisions to a response (etcd: watchBatchMaxRevs)', async () => {
    const { client, write } = await watchServer(1 * MiB);
    for (let i = 0; i < 2500; i++) write('k', 'v');
    const watcher = await watch(client, { key: bytes('k'), start_revision: 1 });
    await eventually(() => (watcher.revisions().length === 2500 ? true : undefined));
    expect(watcher.revisions()).toEqual(range(1, 2500));
    const sizes = watcher.responses.map((response) => (response['events'] as unknown[]).length).filter((count) => count > 0);
    expect(sizes).toEqual([1000, 1000, 500]);
  });

  test('a watch from a future revision hears nothing before it', async () => {
    const { client, write } = await watchServer(1 * MiB);
    write('k', 'one');
    const watcher = await watch(client, { key: bytes('k'), start_revision: 4 });
    for (let i = 0; i < 4; i++) write('k', `v${i}`);
    await eventually(() => (watcher.revisions().length === 2 ? true : undefined));
    expect(watcher.revisions()).toEqual([4, 5]);
  });
});

describe('watchService: the stream itself, as etcd 3.4 handles it', () => {
  test('a client that half-closes keeps its stream and its watches (etcd: recvLoop returns nil on EOF)', async () => {
    const { hub, client, write } = await watchServer(1 * MiB);
    const watcher = await watch(client, { key: bytes('k') });
    let status: grpc.StatusObject | undefined;
    watcher.call.on('status', (ended: grpc.StatusObject) => (status = ended));
    watcher.call.end();
    write('k', 'after half-close');
    await eventually(() => (watcher.revisions().length === 1 ? true : undefined));
    expect(watcher.revisions()).toEqual([1]);
    expect(status).toBeUndefined();
    expect(hub.size()).toBe(1);
    // Cancelling from the client ends it, and its watch with it.
    watcher.call.cancel();
    await eventually(() => (hub.size() === 0 ? true : undefined));
  });

  test('a malformed message ends the stream with etcd\'s INTERNAL status, and its watches with it', async () => {
    const { hub, client } = await watchServer(1 * MiB);
    const watcher = await watch(client, { key: bytes('k') });
    const raw = new grpc.Client(client.getChannel().getTarget().replace(/^dns:|^ipv4:/, ''), grpc.credentials.createInsecure());
    cleanups.push(() => raw.close());
    const asIs = (b: Buffer): Buffer => b;
    const call = raw.makeBidiStreamRequest('/etcdserverpb.Watch/Watch', asIs, asIs);
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.write(Buffer.from('0a03 0a0172'.replace(/ /g, ''), 'hex')); // create_request { key: 'r' }
    await eventually(() => (hub.size() === 2 ? true : undefined));
    // A create request (field 1) whose nested message has field number 0.
    call.write(Buffer.from('0a02 0001'.replace(/ /g, ''), 'hex'));
    const ended = await status;
    expect(ended.code).toBe(grpc.status.INTERNAL);
    expect(ended.details).toBe('grpc: failed to unmarshal the received message proto: WatchCreateRequest: illegal tag 0 (wire type 0)');
    // Its watch is gone; the other client's stream and watch are untouched.
    await eventually(() => (hub.size() === 1 ? true : undefined));
    expect(watcher.call.readable).toBe(true);
    watcher.call.cancel();
  });
});
