import { loadEtcdApi, type EtcdApi } from '@k8ts/proto';
import { EtcdCaseGenerator, type EtcdCase } from './etcd_cases.js';
import type { FuzzAnswer, FuzzSubject } from './fuzz_run.js';
import { RawGrpcClient, grpc, type RawOutcome } from './raw_grpc.js';

export interface EtcdSubjectOptions {
  /** The member's client URL (http://127.0.0.1:port) or host:port. */
  readonly address: string;
  /** Whether the member's process is still running (its exit, if not); checked before Status. */
  readonly processExit?: () => string | undefined;
  /** A unary call must answer within this (default 5 s): later is a hang. */
  readonly unaryDeadlineMs?: number;
  /** How long a stream (watch, keep-alive) is left open before the fuzzer ends it (default 200 ms). */
  readonly streamDeadlineMs?: number;
}

/**
 * A store member's etcd v3 API as a fuzz subject. An answer breaks the contract when a unary call
 * does not end within its deadline (a hang), when the connection drops (UNAVAILABLE or CANCELLED:
 * the server closed or reset it), when a status carries no details, or when the error is not one
 * etcd gives for bad input: UNKNOWN (an exception no handler mapped, which is what grpc-js makes
 * of a handler that throws), or INTERNAL other than the gRPC library's own "cannot decode".
 * A malformed case (EtcdCase.refusal) must be refused: not OK, not a stream left open, and when
 * refused as etcd refuses it (INTERNAL), with etcd's text (grpc-go's prefix and gogo's error).
 * Nothing of it may be written (the runner compares the keyspace before and after).
 */
export class EtcdSubject implements FuzzSubject<EtcdCase> {
  private readonly client: RawGrpcClient;
  private readonly generator: EtcdCaseGenerator;
  private readonly unaryDeadlineMs: number;
  private readonly streamDeadlineMs: number;

  constructor(
    private readonly options: EtcdSubjectOptions,
    private readonly api: EtcdApi = loadEtcdApi(),
  ) {
    this.client = new RawGrpcClient(options.address);
    this.generator = new EtcdCaseGenerator(api);
    this.unaryDeadlineMs = options.unaryDeadlineMs ?? 5000;
    this.streamDeadlineMs = options.streamDeadlineMs ?? 200;
  }

  generate(random: () => number): EtcdCase {
    return this.generator.generate(random);
  }

  /** A case for one given message (see EtcdCaseGenerator.exact). */
  exact(service: 'KV' | 'Watch' | 'Lease' | 'Cluster' | 'Maintenance', method: string, message: Record<string, unknown>): EtcdCase {
    return this.generator.exact(service, method, message);
  }

  describe(fuzzCase: EtcdCase): string {
    return `${fuzzCase.service}.${fuzzCase.method} (${fuzzCase.shape}) ${fuzzCase.summary}`;
  }

  mayWrite(fuzzCase: EtcdCase): boolean {
    return this.generator.writes(fuzzCase);
  }

  async send(fuzzCase: EtcdCase): Promise<FuzzAnswer> {
    if (fuzzCase.streaming) {
      const outcome = await this.client.bidi(fuzzCase.path, fuzzCase.payloads, this.streamDeadlineMs);
      // A stream still open at the fuzzer's deadline is a watch doing its job.
      return judgeMalformed(fuzzCase, outcome, judge(outcome, outcome.code === grpc.status.DEADLINE_EXCEEDED));
    }
    const payload = fuzzCase.payloads[0] ?? Buffer.alloc(0);
    const outcome = await this.client.unary(fuzzCase.path, payload, this.unaryDeadlineMs);
    const answer = judge(outcome, false);
    if (outcome.code === grpc.status.DEADLINE_EXCEEDED && answer.problem === undefined) {
      return { ...answer, problem: `no answer within ${this.unaryDeadlineMs} ms (a hang)` };
    }
    return judgeMalformed(fuzzCase, outcome, answer);
  }

  /** Every key with its value, revisions, version and lease, and the store's revision. */
  async snapshot(): Promise<string> {
    const range = this.api.KV.service['Range'];
    if (range === undefined) throw new Error('etcd API has no KV.Range');
    const request = (range.requestSerialize as (message: object) => Buffer)({ key: Buffer.from([0]), range_end: Buffer.from([0]) });
    const response = await this.client.unaryResponse('/etcdserverpb.KV/Range', request, this.unaryDeadlineMs);
    const decoded = range.responseDeserialize(response) as { header: { revision: string }; kvs: { key: Buffer; value: Buffer; create_revision: string; mod_revision: string; version: string; lease: string }[] };
    const kvs = decoded.kvs.map((kv) => [kv.key.toString('base64'), kv.value.toString('base64'), kv.create_revision, kv.mod_revision, kv.version, kv.lease]);
    return JSON.stringify({ revision: decoded.header.revision, kvs });
  }

  async health(): Promise<string | undefined> {
    const exit = this.options.processExit?.();
    if (exit !== undefined) return exit;
    const status = this.api.Maintenance.service['Status'];
    if (status === undefined) throw new Error('etcd API has no Maintenance.Status');
    const outcome = await this.client.unary('/etcdserverpb.Maintenance/Status', (status.requestSerialize as (message: object) => Buffer)({}), this.unaryDeadlineMs);
    return outcome.code === grpc.status.OK ? undefined : `Status answered ${grpc.status[outcome.code]}: ${outcome.details}`;
  }

  close(): void {
    this.client.close();
  }
}

/** Whether a call's ending keeps the contract (see EtcdSubject). */
export function judge(outcome: RawOutcome, streamLeftOpen: boolean): FuzzAnswer {
  const name = grpc.status[outcome.code] ?? String(outcome.code);
  const base = { code: outcome.code, details: outcome.details, succeeded: outcome.code === grpc.status.OK };
  if (outcome.code === grpc.status.OK || streamLeftOpen) return base;
  if (outcome.code === grpc.status.UNAVAILABLE || outcome.code === grpc.status.CANCELLED) {
    return { ...base, problem: `connection dropped: ${name} ${outcome.details}` };
  }
  if (outcome.code === grpc.status.UNKNOWN) return { ...base, problem: `unmapped error (UNKNOWN): ${outcome.details}` };
  if (outcome.code === grpc.status.INTERNAL && !/deserializ|unmarshal|parse/i.test(outcome.details)) {
    return { ...base, problem: `internal error: ${outcome.details}` };
  }
  if (outcome.details.trim() === '') return { ...base, problem: `${name} with no details` };
  return base;
}

/** A malformed case must be refused, with etcd's text when refused as unmarshalling fails. */
export function judgeMalformed(fuzzCase: EtcdCase, outcome: RawOutcome, answer: FuzzAnswer): FuzzAnswer {
  if (fuzzCase.refusal === undefined || answer.problem !== undefined) return answer;
  const name = grpc.status[outcome.code] ?? String(outcome.code);
  if (outcome.code === grpc.status.OK || outcome.code === grpc.status.DEADLINE_EXCEEDED) {
    return { ...answer, problem: `malformed request accepted (${name}); etcd refuses it: ${fuzzCase.refusal}` };
  }
  if (outcome.code !== grpc.status.INTERNAL) return answer; // refused earlier (a size limit), as etcd may
  // grpc-go words it differently for streams (RecvMsg) and unary calls.
  const expected = fuzzCase.streaming ? `grpc: failed to unmarshal the received message ${fuzzCase.refusal}` : `grpc: error unmarshalling request: ${fuzzCase.refusal}`;
  if (outcome.details !== expected) return { ...answer, problem: `malformed request refused with "${outcome.details}"; etcd says "${expected}"` };
  return answer;
}
