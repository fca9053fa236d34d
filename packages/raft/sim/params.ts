import type { SeededRandom } from './random.js';

/** Rules deliberately broken to prove the checkers notice (see checker.test.ts). */
export type Mutation =
  | 'voteWithoutLogCheck'
  | 'commitEntriesOfEarlierTerms'
  | 'ackBeforePersist'
  | 'readIndexWithoutQuorum'
  | 'appendWithoutPrevCheck'
  | 'twoVotesPerTerm'
  | 'installStaleSnapshot'
  | 'noCheckQuorum';
export const MUTATIONS: readonly Mutation[] = [
  'voteWithoutLogCheck',
  'commitEntriesOfEarlierTerms',
  'ackBeforePersist',
  'readIndexWithoutQuorum',
  'appendWithoutPrevCheck',
  'twoVotesPerTerm',
  'installStaleSnapshot',
  'noCheckQuorum',
];

/** One seed's fault profile and cluster shape, drawn from the seed so every run differs. */
export interface SimulationParams {
  readonly nodeCount: number;
  readonly tickMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatTimeoutTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxSizePerMessageBytes: number;
  readonly maxInflightMessages: number;
  readonly messageDelayMaxMs: number;
  readonly lossRate: number;
  readonly duplicateRate: number;
  readonly persistLatencyMaxMs: number;
  readonly crashIntervalMs: number;
  /** Chance that a newly elected leader is crashed or isolated within a few round trips (figure 8's shape). */
  readonly disruptNewLeaderChance: number;
  readonly partitionIntervalMs: number;
  readonly membershipChanges: boolean;
  readonly transferIntervalMs: number;
  readonly compactEveryEntries: number;
  readonly proposalIntervalMs: number;
  readonly readIntervalMs: number;
  /** Faults run for this long, then heal; liveness is checked after. */
  readonly chaosMs: number;
}

export function drawParams(random: SeededRandom, mutation: Mutation | undefined): SimulationParams {
  return {
    nodeCount: random.pick([1, 3, 3, 3, 5, 5, 5, 5]),
    tickMs: 10,
    electionTimeoutTicks: 10,
    heartbeatTimeoutTicks: random.pick([1, 2, 3]),
    preVote: random.chance(0.8),
    checkQuorum: random.chance(0.8),
    // 1 byte: every append carries one entry, which widens the windows old-term entries sit in.
    maxSizePerMessageBytes: random.pick([1, 1, 16, 1024 * 1024]),
    maxInflightMessages: random.pick([1, 2, 8, 256]),
    messageDelayMaxMs: random.between(1, 30),
    lossRate: random.chance(0.3) ? 0 : random.float() * 0.15,
    duplicateRate: random.chance(0.5) ? 0 : random.float() * 0.05,
    persistLatencyMaxMs: random.between(0, mutation === 'ackBeforePersist' ? 2 : 6),
    crashIntervalMs: random.between(100, 1200),
    disruptNewLeaderChance: random.pick([0, 0, 0.3, 0.6]),
    partitionIntervalMs: random.between(100, 1200),
    membershipChanges: random.chance(0.4),
    transferIntervalMs: random.chance(0.3) ? random.between(200, 1000) : 0,
    compactEveryEntries: random.pick([4, 16, 64, 1_000_000]),
    proposalIntervalMs: random.between(3, 30),
    readIntervalMs: random.between(10, 60),
    chaosMs: 3000,
  };
}
