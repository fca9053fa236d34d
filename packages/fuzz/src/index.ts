/**
 * @k8ts/fuzz: seeded fuzzing of the project's network APIs. One seed replays a whole run.
 *
 * - `fuzzSeed`/`fuzzSeeds`: the transport-neutral runner and its oracle (a well-formed answer to
 *   every request, the process up afterwards, nothing half-written by a failed request).
 * - `EtcdSubject`: a store member's etcd v3 gRPC API, attacked through raw gRPC framing.
 * - `RawGrpcClient`: a gRPC client that sends bytes as given.
 * - `ApiServerSubject`: an apiserver's REST API, attacked with raw HTTP requests.
 */
export { formatFailures, fuzzSeed, fuzzSeeds, parseSeeds, type FuzzAnswer, type FuzzFailure, type FuzzSubject, type SeedRun } from './fuzz_run.js';
export { EtcdCaseGenerator, FUZZ_PREFIX, type EtcdCase } from './etcd_cases.js';
export { EtcdSubject, judge, type EtcdSubjectOptions } from './etcd_subject.js';
export { RawGrpcClient, type RawOutcome } from './raw_grpc.js';
export { ApiCaseGenerator, fixtures, type ApiCase, type FuzzScope } from './apiserver_cases.js';
export { ApiServerSubject, judgeHttp, type ApiServerSubjectOptions, type HttpOutcome } from './apiserver_subject.js';
