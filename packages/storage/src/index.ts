export { RaftStorage, DEFAULT_RETAINED_SNAPSHOT_FILES, DEFAULT_SEGMENT_SIZE_BYTES } from './raft_storage.js';
export type { RaftStorageOptions, StorageUpdate } from './raft_storage.js';
export { nodeFs, type StorageFile, type StorageFs } from './storage_fs.js';
export { RecoveryError, StorageError, StorageInvariantError, WalCorruptionError } from './errors.js';
export type { WalStats } from './wal/wal_writer.js';
export { loneWriterGate, type LoneWriterGateOptions, type SyncThreadGate } from './wal/sync_thread_gate.js';
export { segmentFileName, parseSegmentFileName, type SegmentId } from './wal/segment_name.js';
export { snapshotFileName, parseSnapshotFileName, type SnapshotId } from './snapshot/snapshot_file.js';
