import { fdatasyncSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, type FileHandle } from 'node:fs/promises';

/** An open file: only the calls the WAL and snapshot code make. */
export interface StorageFile {
  /** Writes into the page cache on the calling thread; returns how many bytes it took (may be short). */
  writeSync(bytes: Uint8Array, offset: number, length: number, position: number): number;
  write(bytes: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** fdatasync: the data (and the size) written so far survives a power loss. */
  datasync(): Promise<void>;
  /** fdatasync on the calling thread: no trip through libuv's thread pool, but the event loop waits for the disk. */
  datasyncSync(): void;
  /** fsync. */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file system under one RaftStorage: node:fs by default (`nodeFs`), or a twin in tests that keeps
 * unsynced data apart and drops it on a simulated power loss (testing/power_loss_fs.ts).
 */
export interface StorageFs {
  /** 'r+': read/write an existing file; 'w': create or truncate; 'wx': create, failing if it exists. */
  open(path: string, flags: 'r+' | 'w' | 'wx'): Promise<StorageFile>;
  readFile(path: string): Promise<Buffer>;
  readdir(path: string): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; a missing one is no error. */
  rm(path: string): Promise<void>;
  /** mkdir -p; returns the first directory it created, undefined when all existed (as node's). */
  mkdir(path: string): Promise<string | undefined>;
  /** Makes a directory's entries (creations, renames, removals in it) durable. */
  fsyncDirectory(path: string): Promise<void>;
}

class NodeFile implements StorageFile {
  constructor(private readonly handle: FileHandle) {}

  writeSync(bytes: Uint8Array, offset: number, length: number, position: number): number {
    return writeSync(this.handle.fd, bytes, offset, length, position);
  }

  async write(bytes: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return (await this.handle.write(bytes, offset, length, position)).bytesWritten;
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  datasyncSync(): void {
    fdatasyncSync(this.handle.fd);
  }

  sync(): Promise<void> {
    return this.handle.sync();
  }

  truncate(length: number): Promise<void> {
    return this.handle.truncate(length);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** The real file system. */
export const nodeFs: StorageFs = {
  open: async (path, flags) => new NodeFile(await open(path, flags)),
  readFile: (path) => readFile(path),
  readdir: (path) => readdir(path),
  rename: (from, to) => rename(from, to),
  rm: (path) => rm(path, { force: true }),
  mkdir: (path) => mkdir(path, { recursive: true }),
  fsyncDirectory: async (path) => {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};
