/**
 * @k8ts/linearizability: checks histories of concurrent operations on a key-value store of
 * registers for linearizability (Wing–Gong–Lowe search with memoization, as in Knossos and
 * Porcupine). See README.md.
 */
export {
  checkHistory,
  DEFAULT_MAX_STATES_PER_KEY,
  type CheckOptions,
  type CheckResult,
  type Explanation,
  type Linearizable,
  type NotLinearizable,
  type Undecided,
} from './check.js';
export {
  describeOperation,
  HistoryError,
  type CasOperation,
  type ClientId,
  type HistoryEntry,
  type Operation,
  type Outcome,
  type ReadOperation,
  type Value,
  type WriteOperation,
} from './history.js';
