import { seededRandom } from '@k8ts/base';

/**
 * What a fuzzer needs to know about the API it attacks. The runner is transport-neutral: a gRPC
 * subject (store member, etcd_subject.ts) sends raw protobuf frames; an HTTP subject (an apiserver)
 * would send raw request lines and bodies. Each subject says how one answer is judged.
 */
export interface FuzzSubject<Case> {
  /** One request (or stream of requests), drawn only from `random`, so a seed replays it. */
  generate(random: () => number): Case;
  /** A one-line description of the case for a failure report (not the whole payload). */
  describe(fuzzCase: Case): string;
  /** Sends it; the answer and, when the answer itself breaks the contract, why. */
  send(fuzzCase: Case): Promise<FuzzAnswer>;
  /** Whether the case could change state: then a failed answer must leave `snapshot` unchanged. */
  mayWrite(fuzzCase: Case): boolean;
  /**
   * The observable state the case could change (a list of everything, or of what the case
   * addresses), as a comparable string. Taken before and after the same case.
   */
  snapshot(fuzzCase: Case): Promise<string>;
  /** undefined while the process is up and answers a health request; otherwise why not. */
  health(): Promise<string | undefined>;
}

export interface FuzzAnswer {
  /** The status (a gRPC code, or an HTTP status). */
  readonly code: number;
  readonly details: string;
  /** Whether the request succeeded (then a write may have taken effect). */
  readonly succeeded: boolean;
  /** Set when the answer breaks the contract: a hang, a dropped connection, an unmapped error. */
  readonly problem?: string;
}

export interface FuzzFailure {
  readonly seed: number;
  /** The case's position in its seed's run (0-based). */
  readonly caseIndex: number;
  readonly description: string;
  readonly problem: string;
}

export interface SeedRun {
  readonly seed: number;
  readonly cases: number;
  readonly answers: readonly FuzzAnswer[];
  readonly failures: readonly FuzzFailure[];
  /** The process was down at the end: later seeds would only report that again. */
  readonly processDown: boolean;
}

/**
 * Runs one seed: `casesPerSeed` cases in order. After each case that may write and failed, the
 * state must equal the state before it (nothing half-written); after the batch (and at once after
 * any case whose answer shows a problem) the process must still be up and answering. The run stops
 * at the first failure of health, since later answers would only repeat it.
 */
export async function fuzzSeed<Case>(subject: FuzzSubject<Case>, seed: number, casesPerSeed: number): Promise<SeedRun> {
  const random = seededRandom(seed);
  const failures: FuzzFailure[] = [];
  const answers: FuzzAnswer[] = [];
  let caseIndex = 0;
  const stopIfDown = async (description: string): Promise<boolean> => {
    const down = await subject.health();
    if (down !== undefined) failures.push({ seed, caseIndex, description, problem: `process down after this case: ${down}` });
    return down !== undefined;
  };
  for (; caseIndex < casesPerSeed; caseIndex++) {
    const fuzzCase = subject.generate(random);
    const description = subject.describe(fuzzCase);
    const fail = (problem: string): void => void failures.push({ seed, caseIndex, description, problem });
    const before = subject.mayWrite(fuzzCase) ? await readState(subject, fuzzCase) : undefined;
    if (before instanceof Error) {
      fail(`the state could not be read before this case: ${before.message}`);
      await stopIfDown('before the case');
      return { seed, cases: caseIndex, answers, failures, processDown: true };
    }
    const answer = await subject.send(fuzzCase);
    answers.push(answer);
    if (answer.problem !== undefined) fail(answer.problem);
    if (before !== undefined && !answer.succeeded && answer.problem === undefined) {
      const after = await readState(subject, fuzzCase);
      if (after instanceof Error) fail(`the state could not be read after this case: ${after.message}`);
      else if (after !== before) fail(`failed with code ${answer.code} (${answer.details}) yet changed the state:\nbefore ${clip(before)}\nafter  ${clip(after)}`);
    }
    if (failures.length > 0 && (await stopIfDown(description))) return { seed, cases: caseIndex + 1, answers, failures, processDown: true };
  }
  const down = await subject.health();
  if (down !== undefined) failures.push({ seed, caseIndex: caseIndex - 1, description: 'after the batch', problem: `process down: ${down}` });
  return { seed, cases: caseIndex, answers, failures, processDown: down !== undefined };
}

/** Runs each seed in turn, until one leaves the process down; failures carry their seed. */
export async function fuzzSeeds<Case>(subject: FuzzSubject<Case>, seeds: readonly number[], casesPerSeed: number): Promise<SeedRun[]> {
  const runs: SeedRun[] = [];
  for (const seed of seeds) {
    const run = await fuzzSeed(subject, seed, casesPerSeed);
    runs.push(run);
    if (run.processDown) break;
  }
  return runs;
}

/** A failure report: each failure with its seed and how to replay that seed alone. */
export function formatFailures(failures: readonly FuzzFailure[], rerunHint: (seed: number) => string): string {
  return failures
    .map((failure) => `seed ${failure.seed}, case ${failure.caseIndex}: ${failure.description}\n  ${failure.problem}\n  replay: ${rerunHint(failure.seed)}`)
    .join('\n');
}

/**
 * Seeds from a list such as "17", "1-200" or "1-5,9": how FUZZ_SEEDS picks seeds, so a printed seed
 * replays alone.
 */
export function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',').map((piece) => piece.trim()).filter((piece) => piece !== '')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (match === null) throw new Error(`seeds must look like 17, 1-200 or 1-5,9, not ${JSON.stringify(text)}`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) throw new Error(`seed range ${part} runs backwards`);
    for (let seed = first; seed <= last; seed++) seeds.push(seed);
  }
  return seeds;
}

async function readState<Case>(subject: FuzzSubject<Case>, fuzzCase: Case): Promise<string | Error> {
  try {
    return await subject.snapshot(fuzzCase);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function clip(text: string): string {
  return text.length <= 400 ? text : `${text.slice(0, 400)}… (${text.length} characters)`;
}
