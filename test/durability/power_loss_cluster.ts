/**
 * Three store members in this process, wired as k8ts-store wires them (startStoreMember), each over
 * its own PowerLossFs, talking over loopback gRPC and Raft streams; a client workload that records
 * every acknowledged put; and power cuts to one member or to all at once (in one event-loop turn).
 */
import { freePorts, type MemberHandle } from '@k8ts/testkit';
import type { Etcd3 } from 'etcd3';
import { PowerLossFs, type FileLoss } from '../../packages/storage/src/testing/power_loss_fs.js';
import { parseStoreFlags } from '../../services/store/src/flags.js';
import { startStoreMember, type StoreMember } from '../../services/store/src/member.js';
import { FAST_RAFT_FLAGS, errorText, eventually, sleep, storeClient, waitForServing } from '../store_harness.js';

const REQUEST_TIMEOUT_MS = 2000;
/** Small, so that members take snapshots and release WAL segments during the run. */
const SNAPSHOT_COUNT = 40;

export interface AckedPut {
  readonly key: string;
  readonly value: string;
  readonly revision: number;
}

class PowerLossMember {
  private disk: PowerLossFs;
  private running: StoreMember | undefined;
  private client: Etcd3 | undefined;
  /** What Raft reported fatal (a failed write after the power went): expected after a cut only. */
  readonly fatal: string[] = [];
  readonly handle: MemberHandle;

  constructor(
    readonly name: string,
    private readonly argv: readonly string[],
    withoutFdatasync: boolean,
  ) {
    this.disk = new PowerLossFs(withoutFdatasync ? { lying: 'fdatasync' } : {});
    const clientUrl = argv[argv.indexOf('--listen-client-urls') + 1] ?? '';
    this.handle = { name, clientUrl, endpoint: clientUrl.replace('http://', ''), dataDir: '/data', process: undefined, args: argv, log: '' };
  }

  async start(): Promise<void> {
    this.running = await startStoreMember(parseStoreFlags(this.argv), {
      retention: 0,
      fs: this.disk,
      // The twin copies a file on every sync; a 64 MiB preallocated segment would make each sync slow.
      walSegmentSizeBytes: 64 * 1024,
      onRemoved: () => this.fatal.push('removed from the cluster'),
      onFatal: (error) => this.fatal.push(errorText(error)),
    });
  }

  /** A client of this member; a new one after each restart (gRPC would back off reconnecting). */
  storeClient(): Etcd3 {
    this.client ??= storeClient(this.handle, REQUEST_TIMEOUT_MS);
    return this.client;
  }

  hasUnsyncedWrites(): boolean {
    return this.disk.hasUnsyncedWrites();
  }

  /** Cuts the power now (synchronously); the promise settles once the dead member let go of its ports. */
  cut(random: () => number): { losses: FileLoss[]; halted: Promise<void> } {
    const member = this.running;
    if (member === undefined) throw new Error(`${this.name} is not running`);
    const { rebooted, losses } = this.disk.powerLoss(random);
    this.disk = rebooted;
    this.running = undefined;
    this.client?.close();
    this.client = undefined;
    return { losses, halted: member.halt() };
  }

  async stop(): Promise<void> {
    this.client?.close();
    this.client = undefined;
    await this.running?.stop();
    this.running = undefined;
  }
}

export class PowerLossCluster {
  private constructor(readonly members: readonly PowerLossMember[]) {}

  /** `withoutFdatasync`: the variant whose WAL appends are never made durable (the fdatasync removed). */
  static async start(options: { readonly withoutFdatasync: boolean }): Promise<PowerLossCluster> {
    const ports = await freePorts(6);
    const url = (port: number | undefined) => `http://127.0.0.1:${port ?? 0}`;
    const names = ['m1', 'm2', 'm3'];
    const initialCluster = names.map((name, i) => `${name}=${url(ports[3 + i])}`).join(',');
    const members = names.map((name, i) => {
      const client = url(ports[i]);
      const peer = url(ports[3 + i]);
      const argv = [
        '--name', name, '--data-dir', '/data',
        '--listen-client-urls', client, '--advertise-client-urls', client,
        '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
        '--initial-cluster', initialCluster, '--snapshot-count', String(SNAPSHOT_COUNT), '--log-level', 'fatal',
        ...FAST_RAFT_FLAGS,
      ];
      return new PowerLossMember(name, argv, options.withoutFdatasync);
    });
    const cluster = new PowerLossCluster(members);
    await Promise.all(members.map((member) => member.start()));
    return cluster;
  }

  clients(): Etcd3[] {
    return this.members.map((member) => member.storeClient());
  }

  /** Waits until every member follows one leader and serves linearizable reads. */
  async serving(timeoutMs = 20_000): Promise<void> {
    await waitForServing(this.clients(), timeoutMs);
  }

  /**
   * Cuts the power to the given members in one synchronous step — as soon as one of them holds
   * written but unsynced data (a save in flight), checked on every event-loop turn for a bounded
   * number of turns — then waits for them to let go of their ports.
   */
  async cutMidSave(indexes: readonly number[], random: () => number): Promise<{ losses: FileLoss[]; midSave: boolean }> {
    const members = indexes.map((index) => this.member(index));
    let midSave = members.some((member) => member.hasUnsyncedWrites());
    for (let turn = 0; turn < 100_000 && !midSave; turn += 1) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      midSave = members.some((member) => member.hasUnsyncedWrites());
    }
    const cuts = members.map((member) => member.cut(random));
    await Promise.all(cuts.map((cut) => cut.halted));
    return { losses: cuts.flatMap((cut) => cut.losses), midSave };
  }

  /** Starts the given members again on what their disks kept. Throws what recovery threw. */
  async restart(indexes: readonly number[]): Promise<void> {
    await Promise.all(indexes.map((index) => this.member(index).start()));
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.members.map((member) => member.stop()));
  }

  private member(index: number): PowerLossMember {
    const member = this.members[index];
    if (member === undefined) throw new Error(`no member ${index}`);
    return member;
  }
}

/**
 * Concurrent writers of fresh keys, each put to the members in turn; a put counts as acknowledged
 * once its response arrived. A put that failed may or may not have taken effect.
 */
export class PutWriter {
  readonly acked: AckedPut[] = [];
  failed = 0;
  private next = 0;
  private stopped = false;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly cluster: PowerLossCluster,
    concurrency: number,
  ) {
    this.loops = Array.from({ length: concurrency }, () => this.loop());
  }

  /** Waits until `count` puts in all were acknowledged. */
  async until(count: number, timeoutMs = 30_000): Promise<void> {
    await eventually(`${count} acknowledged puts (have ${this.acked.length}, ${this.failed} failed)`, timeoutMs, async () => {
      if (this.acked.length < count) throw new Error(`${this.acked.length} so far`);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const n = this.next++;
      const key = `key-${String(n).padStart(6, '0')}`;
      const value = `value-${n}`;
      const clients = this.cluster.clients();
      try {
        const response = await clients[n % clients.length]?.put(key).value(value).exec();
        if (response !== undefined) this.acked.push({ key, value, revision: Number(response.header.revision) });
      } catch {
        this.failed += 1;
        await sleep(20); // pacing while a member is down, not synchronisation
      }
    }
  }
}

/** Every acknowledged put, read back linearizably: its value, at the revision the put answered with. */
export async function lostPuts(client: Etcd3, acked: readonly AckedPut[]): Promise<string[]> {
  const response = await client.getAll().prefix('key-').exec();
  const stored = new Map(response.kvs.map((kv) => [kv.key.toString(), kv]));
  return acked.flatMap(({ key, value, revision }) => {
    const kv = stored.get(key);
    if (kv === undefined) return [`${key} (put at revision ${revision}) is missing`];
    if (kv.value.toString() !== value || Number(kv.mod_revision) !== revision) {
      return [`${key}: ${kv.value.toString()} at revision ${kv.mod_revision}, acknowledged ${value} at ${revision}`];
    }
    return [];
  });
}
