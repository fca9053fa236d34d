/** Base class of everything this package throws on purpose. */
export class StorageError extends Error {
  override readonly name: string = 'StorageError';
}

/**
 * The write-ahead log holds something recovery must not paper over: a damaged record that is not a torn
 * write at the very end of the log, a record that decodes to nonsense, or a log that contradicts itself.
 * Nothing is opened; an operator decides what to do with the data directory.
 */
export class WalCorruptionError extends StorageError {
  override readonly name = 'WalCorruptionError';

  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`WAL corruption in ${file} at offset ${offset}: ${reason}`);
  }
}

/** The files on disk are individually intact but do not add up to a state Raft can restart from. */
export class RecoveryError extends StorageError {
  override readonly name = 'RecoveryError';
}

/** A caller broke this package's contract, or one of its own invariants broke: a bug, never recoverable. */
export class StorageInvariantError extends StorageError {
  override readonly name = 'StorageInvariantError';
}

/** Assertions stay on in production: a broken invariant fails loudly, naming what and where. */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new StorageInvariantError(typeof message === 'string' ? message : message());
  }
}
