import { isMalformedRequest, loadEtcdApi } from '@k8ts/proto';
import { afterEach, describe, expect, test } from 'vitest';
import { EtcdSubject } from './etcd_subject.js';
import { formatFailures, fuzzSeeds, parseSeeds } from './fuzz_run.js';
import { grpc } from './raw_grpc.js';

/**
 * The fuzzer has teeth: pointed at an in-process server with the etcd API's service definitions,
 * it passes a server that answers every call, and reports, with its seed, a server whose Put
 * handler throws (what a missed check in a real handler looks like on the wire).
 */
const api = loadEtcdApi();
let server: grpc.Server | undefined;
let subject: EtcdSubject | undefined;

afterEach(async () => {
  subject?.close();
  const running = server;
  server = undefined;
  if (running !== undefined) await new Promise<void>((resolve) => running.tryShutdown(() => resolve()));
});

async function startFakeStore(putThrows: boolean): Promise<string> {
  // Like the store, it refuses bytes etcd cannot unmarshal (the deserializer hands those over as MalformedRequest).
  const refuse = (request: unknown): grpc.ServiceError | null => (isMalformedRequest(request) ? Object.assign(new Error(request.details), { code: request.code, details: request.details, metadata: new grpc.Metadata() }) : null);
  const answer = (call: { request: unknown }, callback: grpc.sendUnaryData<object>): void => callback(refuse(call.request), { header: { revision: '1' } });
  const handlers = (definition: grpc.ServiceDefinition, overrides: Record<string, grpc.UntypedHandleCall> = {}): grpc.UntypedServiceImplementation =>
    Object.fromEntries(
      Object.entries(definition).map(([method, spec]) => [
        method,
        overrides[method] ?? (spec.requestStream ? (call: grpc.ServerDuplexStream<object, object>) => { call.on('data', (request: unknown) => { const error = refuse(request); if (error !== null) call.emit('error', error); }); call.on('end', () => call.end()); } : answer),
      ]),
    );
  const started = new grpc.Server();
  const put: grpc.handleUnaryCall<{ key: Buffer }, object> = (call, callback) => {
    const error = refuse(call.request);
    if (error !== null) return callback(error);
    if (putThrows && call.request.key.length > 0) throw new TypeError("Cannot read properties of undefined (reading 'revision')");
    callback(null, { header: { revision: '1' } });
  };
  started.addService(api.KV.service, handlers(api.KV.service, { Put: put as grpc.UntypedHandleCall }));
  for (const service of [api.Watch, api.Lease, api.Cluster, api.Maintenance]) started.addService(service.service, handlers(service.service));
  const port = await new Promise<number>((resolve, reject) => started.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  server = started;
  return `127.0.0.1:${port}`;
}

describe('the store fuzzer', () => {
  test('finds nothing wrong with a server that answers every call', async () => {
    subject = new EtcdSubject({ address: await startFakeStore(false) });
    const runs = await fuzzSeeds(subject, parseSeeds('1-5'), 40);
    const failures = runs.flatMap((run) => run.failures);
    expect(formatFailures(failures, (seed) => `FUZZ_SEEDS=${seed}`)).toBe('');
    expect(runs.reduce((sum, run) => sum + run.cases, 0)).toBe(200);
  });

  test('reports a handler that throws, with the seed that replays it', async () => {
    subject = new EtcdSubject({ address: await startFakeStore(true) });
    const runs = await fuzzSeeds(subject, parseSeeds('1-5'), 40);
    const failures = runs.flatMap((run) => run.failures);
    expect(failures.length).toBeGreaterThan(0);
    const first = failures[0];
    expect(first?.description).toMatch(/^KV\.Put/);
    // grpc-js answers a handler that throws with UNKNOWN "Unknown error", hiding the exception.
    expect(first?.problem).toMatch(/unmapped error \(UNKNOWN\)/);
    expect(formatFailures(failures, (seed) => `FUZZ_SEEDS=${seed}`)).toContain(`replay: FUZZ_SEEDS=${String(first?.seed)}`);
    // The same seed alone replays the same failure at the same case.
    const replay = await fuzzSeeds(subject, [first?.seed ?? 0], 40);
    expect(replay[0]?.failures[0]).toEqual(first);
  });

  test('seed lists', () => {
    expect(parseSeeds('17')).toEqual([17]);
    expect(parseSeeds('1-3,9')).toEqual([1, 2, 3, 9]);
    expect(() => parseSeeds('x')).toThrow(/seeds must look like/);
  });
});
