import { describe, expect, test } from 'vitest';
import type { Mutation, SimulationParams } from './params.js';
import { runSeed } from './run.js';

/**
 * Each safety rule turned off on its own must be caught by the simulator within a bounded number
 * of seeds. Runs are deterministic, so "within N seeds" is exact, not a probability. Where the
 * general fault profile reaches a trap too rarely, the profile that builds its shape is pinned:
 * figure 8 needs one entry per append and leaders that die right after an election.
 * Every mutation runs through the member's real driver (RaftNode): the core's unsafe flags, and a
 * disk that acknowledges writes before they are durable (ackBeforePersist).
 */
const CASES: Record<Mutation, { maxSeeds: number; caughtAs: RegExp; params?: Partial<SimulationParams> }> = {
  voteWithoutLogCheck: { maxSeeds: 100, caughtAs: /Leader Completeness|State Machine Safety|Log Matching/ },
  commitEntriesOfEarlierTerms: {
    maxSeeds: 500,
    caughtAs: /Leader Completeness|State Machine Safety/,
    params: { nodeCount: 3, maxSizePerMessageBytes: 1, maxInflightMessages: 1, disruptNewLeaderChance: 0.6 },
  },
  // The leader counts a follower's unwritten entries, so a crash can also break the core's own
  // assertions (a commit index beyond the follower's log) before the checker sees a lost entry.
  ackBeforePersist: {
    maxSeeds: 100,
    caughtAs: /Election Safety|Leader Completeness|State Machine Safety|Durability|InvariantError/,
  },
  readIndexWithoutQuorum: { maxSeeds: 200, caughtAs: /Linearizable Read/ },
  appendWithoutPrevCheck: { maxSeeds: 100, caughtAs: /Log Matching|State Machine Safety|Leader Completeness/ },
  twoVotesPerTerm: { maxSeeds: 100, caughtAs: /Election Safety|two leaders in term/ },
  installStaleSnapshot: { maxSeeds: 100, caughtAs: /State Machine Safety/ },
  // The simulator's own CheckQuorum rule (from delivered messages) applies only where it is on.
  noCheckQuorum: { maxSeeds: 100, caughtAs: /CheckQuorum/, params: { checkQuorum: true } },
};

describe('the simulator catches each broken safety rule', () => {
  for (const [mutation, { maxSeeds, caughtAs, params }] of Object.entries(CASES) as [Mutation, (typeof CASES)[Mutation]][]) {
    test(`${mutation}: a violation within ${maxSeeds} seeds, and that seed passes with the rule intact`, async () => {
      let caught: { seed: number; failure: string } | undefined;
      for (let seed = 0; seed < maxSeeds && caught === undefined; seed++) {
        const result = await runSeed(seed, mutation, undefined, params);
        if (!result.ok) caught = { seed, failure: result.failure ?? '' };
      }
      expect(caught, `no violation in seeds 0-${maxSeeds - 1}`).toBeDefined();
      expect(caught?.failure).toMatch(caughtAs);
      const intact = await runSeed(caught?.seed ?? 0, undefined, undefined, params);
      expect(intact.failure).toBeUndefined();
    });
  }
});
