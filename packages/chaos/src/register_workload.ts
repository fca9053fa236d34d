import type { Operation, Value } from '@k8ts/linearizability';
import type { Etcd3 } from 'etcd3';
import type { FinalRead } from './checks.js';
import { memberClient, surelyNotApplied } from './store_client.js';

/**
 * Registers written and read in the store through its etcd v3 API while faults happen: one client
 * per member, each reading or writing one of a few keys in turn, every value unique, every operation
 * recorded with its invocation, completion and outcome (ok, fail: surely not applied, unknown: it may
 * take effect at any later time) for the linearizability and lost-write checks.
 */

export interface RegisterWorkloadOptions {
  /** Member name → etcd client URL. */
  readonly stores: ReadonlyMap<string, string>;
  /** Milliseconds on the run's clock. */
  readonly now: () => number;
  readonly random: () => number;
  readonly keys?: readonly string[];
  readonly requestTimeoutMs?: number;
  /** Pause between one client's operations. */
  readonly thinkMs?: number;
}

export const REGISTER_PREFIX = 'k8ts-chaos/register/';

export class RegisterWorkload {
  readonly history: Operation[] = [];
  private readonly clients: { readonly member: string; readonly client: Etcd3 }[];
  private readonly keys: readonly string[];
  private running = false;
  private loops: Promise<void>[] = [];
  private written = 0;

  constructor(private readonly options: RegisterWorkloadOptions) {
    this.keys = options.keys ?? [`${REGISTER_PREFIX}0`, `${REGISTER_PREFIX}1`];
    this.clients = [...options.stores].map(([member, url]) => ({ member, client: memberClient(url, options.requestTimeoutMs ?? 1_000) }));
  }

  start(): void {
    this.running = true;
    this.loops = this.clients.map((_, index) => this.loop(index));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /**
   * Each key read once the writers have stopped, through any member that answers (retried until
   * `deadlineMs` on the run's clock): what the lost-write check compares with the acknowledged writes.
   */
  async finalReads(deadlineMs: number): Promise<FinalRead[]> {
    const reads: FinalRead[] = [];
    for (const key of this.keys) {
      for (let attempt = 0; ; attempt++) {
        const { client } = this.clients[attempt % this.clients.length] as { client: Etcd3 };
        const invokedAt = this.options.now();
        try {
          const value = await client.get(key).string();
          reads.push({ key, value, invokedAt });
          break;
        } catch (error) {
          if (this.options.now() > deadlineMs) throw new Error(`final read of ${key}: no member answered (${(error as Error).message})`);
          await new Promise((done) => setTimeout(done, 200));
        }
      }
    }
    return reads;
  }

  close(): void {
    for (const { client } of this.clients) client.close();
  }

  private async loop(index: number): Promise<void> {
    const { client } = this.clients[index] as { client: Etcd3 };
    while (this.running) {
      const key = this.keys[Math.floor(this.options.random() * this.keys.length)] as string;
      if (this.options.random() < 0.5) await this.write(index, client, key);
      else await this.read(index, client, key);
      await new Promise((done) => setTimeout(done, this.options.thinkMs ?? 50));
    }
  }

  private async write(index: number, client: Etcd3, key: string): Promise<void> {
    const value = `c${index}-${++this.written}`;
    const invokedAt = this.options.now();
    try {
      await client.put(key).value(value);
      this.history.push({ kind: 'write', client: index, key, value, invokedAt, completedAt: this.options.now(), outcome: 'ok' });
    } catch (error) {
      const outcome = surelyNotApplied(error) ? 'fail' : 'unknown';
      this.history.push({ kind: 'write', client: index, key, value, invokedAt, completedAt: this.options.now(), outcome });
    }
  }

  private async read(index: number, client: Etcd3, key: string): Promise<void> {
    const invokedAt = this.options.now();
    try {
      const value: Value = await client.get(key).string();
      this.history.push({ kind: 'read', client: index, key, value, invokedAt, completedAt: this.options.now(), outcome: 'ok' });
    } catch {
      // A failed read observed nothing: kept as failed for availability, ignored by the checker.
      this.history.push({ kind: 'read', client: index, key, invokedAt, completedAt: this.options.now(), outcome: 'fail' });
    }
  }
}
