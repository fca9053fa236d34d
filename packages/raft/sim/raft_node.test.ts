import { FakeClock } from '@k8ts/base';
import { afterEach, describe, expect, test } from 'vitest';
import { RaftNode } from '../driver/raft_node.js';
import { MessageType, Role, bootstrapState, type Message } from '../src/index.js';
import { runSeed } from './run.js';

/**
 * The driver (driver/raft_node.ts) with time injected. It lives beside the simulator's tests because
 * the test runner collects src/ and sim/; the store's tests of it over the real peer transport are in
 * packages/etcdserver/src/raft_node.test.ts.
 */

const nodes: RaftNode[] = [];
afterEach(async () => {
  for (const node of nodes.splice(0)) await node.stop();
});

function startNode(voters: number[], clock: FakeClock, sent: Message[] = []): RaftNode {
  const node = new RaftNode({
    raft: { id: 1, electionTimeoutTicks: 10, heartbeatTimeoutTicks: 1, random: { int: () => 0 } },
    persisted: bootstrapState(voters),
    log: { save: async () => undefined, saveSnapshot: async () => undefined },
    peers: { send: (messages) => void sent.push(...messages) },
    stateMachine: { restore: () => undefined, apply: () => undefined },
    tickMs: 100,
    clock,
    onFatal: (error) => {
      throw error;
    },
  });
  nodes.push(node);
  node.start();
  return node;
}

/** Lets the driver's loop run (it awaits storage and the state machine); polls with a bound. */
async function until<T>(probe: () => T | undefined): Promise<T> {
  for (let turn = 0; turn < 1000; turn++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('condition never held');
}

describe('RaftNode with an injected clock', () => {
  test('ticks come from the clock: a single voter elects itself only when virtual time passes', async () => {
    const clock = new FakeClock();
    const node = startNode([1], clock);
    // Its election timeout is 10 ticks of 100 ms: 999 ms in, it must still be waiting.
    clock.advance(999);
    await until(() => (node.queuedInputs() === 0 ? true : undefined));
    expect(node.status().role).toBe(Role.Follower);
    clock.advance(1);
    await until(() => (node.status().role === Role.Leader ? true : undefined));
    expect(node.status().term).toBe(2);
  });

  test('a read index times out on the clock, not before', async () => {
    const clock = new FakeClock();
    const sent: Message[] = [];
    const node = startNode([1, 2, 3], clock, sent);
    const heartbeat: Message = {
      type: MessageType.Heartbeat,
      from: 2,
      to: 1,
      term: 2,
      index: 0,
      logTerm: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHintIndex: 0,
      rejectHintTerm: 0,
    };
    node.step(heartbeat);
    await until(() => (node.status().leader === 2 ? true : undefined));
    let outcome = 'pending';
    // An hour of virtual time: a real timer would hold the test far past its own timeout.
    const read = node.readIndex('r1', 3_600_000).then(
      () => (outcome = 'resolved'),
      (error: unknown) => (outcome = error instanceof Error ? error.message : String(error)),
    );
    // The request goes to the leader, which (here) never answers.
    await until(() => (sent.some((message) => message.type === MessageType.ReadIndex && message.to === 2) ? true : undefined));
    clock.advance(3_599_999);
    await until(() => (node.queuedInputs() === 0 ? true : undefined));
    expect(outcome).toBe('pending');
    clock.advance(1);
    await read;
    expect(outcome).toBe('read index timed out');
  });
});

describe('the simulator over the real driver', () => {
  test('one seed replays exactly: the same trace twice', async () => {
    const traces: string[][] = [[], []];
    for (const lines of traces) await runSeed(42, undefined, (line) => lines.push(line));
    expect(traces[0]?.length).toBeGreaterThan(100);
    expect(traces[1]).toEqual(traces[0]);
  });
  test('a call still queued when the loop dies is refused, not left waiting', async () => {
    const clock = new FakeClock();
    let failing = false;
    let failSave: ((error: Error) => void) | undefined;
    const fatal: unknown[] = [];
    const node = new RaftNode({
      raft: { id: 1, electionTimeoutTicks: 10, heartbeatTimeoutTicks: 1, random: { int: () => 0 } },
      persisted: bootstrapState([1]),
      log: { save: () => (failing ? new Promise<void>((_, reject) => (failSave = reject)) : Promise.resolve()), saveSnapshot: async () => undefined },
      peers: { send: () => undefined },
      stateMachine: { restore: () => undefined, apply: () => undefined },
      tickMs: 100,
      clock,
      onFatal: (error) => void fatal.push(error),
    });
    nodes.push(node);
    node.start();
    clock.advance(1000);
    await until(() => (node.status().role === Role.Leader ? true : undefined));
    failing = true;
    expect(await node.propose(new Uint8Array([1]))).toMatchObject({ ok: true });
    await until(() => failSave);
    const queued = node.transferLeadership(2); // waits behind the save in flight
    failSave?.(new Error('disk gone'));
    expect(await queued).toEqual({ ok: false, reason: 'raft node stopped', leader: 0 });
    expect(fatal).toEqual([new Error('disk gone')]);
  });
});
