// An in-memory file system twin for power-loss tests: it keeps what a sync made durable apart from what
// only reached the page cache, and `powerLoss` throws the page cache away the way a power cut can.
import { posix } from 'node:path';
import type { StorageFile, StorageFs } from '../storage_fs.js';

/** The page size of the model: writeback and tearing happen in these units. */
export const PAGE_BYTES = 4096;

export interface PowerLossFsOptions {
  /**
   * A disk whose syncs return without making anything durable, for proving that a test notices:
   * 'fdatasync' — fdatasync only, which is the storage code with its one fdatasync (the WAL append's)
   * removed; 'every sync' — fsync of files too. Directory fsyncs always work.
   */
  readonly lying?: 'fdatasync' | 'every sync';
}

/** What `powerLoss` did to one file whose content was not all durable. */
export interface FileLoss {
  readonly path: string;
  /** Dirty pages (unsynced since the last sync) and how many of them survived whole. */
  readonly dirtyPages: number;
  readonly survivedPages: number;
  /** Bytes of the next dirty page that reached the disk (the torn page), when one was torn. */
  readonly tornBytes?: number;
  readonly sizeBefore: number;
  readonly sizeAfter: number;
}

interface FileNode {
  readonly kind: 'file';
  /** The page cache: what reads see. */
  current: Buffer;
  /** What survives a power loss for sure: the content as of the last completed sync. */
  durable: Buffer;
  /** Writes (and truncations) so far; a sync records how many it covered. */
  writes: number;
  syncedWrites: number;
}

interface DirectoryNode {
  readonly kind: 'directory';
  entries: Map<string, Node>;
  /** The entries as of the last completed fsync of this directory. */
  durable: Map<string, Node>;
}

type Node = FileNode | DirectoryNode;

/** The disk all boots of one machine share. */
interface Disk {
  readonly root: DirectoryNode;
  /** Bumped by every power loss: instances and files of an older boot are dead. */
  epoch: number;
  readonly lying: 'fdatasync' | 'every sync' | undefined;
}

class FsError extends Error {
  constructor(
    readonly code: string,
    syscall: string,
    path: string,
  ) {
    super(`${code}: ${syscall} '${path}'`);
  }
}

/**
 * The model (what ext4 with data=ordered and no auto_da_alloc may leave after a power cut):
 *
 * - A file's content as of its last completed fsync/fdatasync is durable. A sync makes durable what
 *   was written before it was called; it completes on a later turn of the event loop, and a power
 *   loss before then leaves the file as if it had not been called.
 * - A directory's entries (files created, renamed, removed; directories made) as of its last
 *   completed fsync are durable. Without one, a power loss reverts them: a new file's name vanishes,
 *   a renamed file is back under its old name, a removed one is back (with its durable content).
 * - Of a file's pages written since its last sync (dirty pages), writeback keeps a random prefix in
 *   file order: the first k survive whole, the next is torn (a random number of its leading bytes
 *   reached the disk; the rest holds the durable content, or zeroes past the durable size), the rest
 *   are lost. The size grows to cover what survived (with the torn page whole, zero-filled, or cut at
 *   the tear, at random), never shrinks below the durable size unless every dirty page survived, and
 *   an unsynced truncation is undone unless everything since the last sync survived.
 * - Not modelled: a later dirty page surviving an earlier one (writeback out of file order), which
 *   recovery refuses by design (see the storage README's "Known limit"), and metadata surviving
 *   without its data (data=writeback).
 *
 * One instance is one boot of a machine's disk. `powerLoss` returns the next boot's instance over the
 * same disk; from then on every call through an older instance, and through files it opened, fails
 * with EIO, so nothing the dead process still had under way can touch what the restart sees.
 */
export class PowerLossFs implements StorageFs {
  private readonly disk: Disk;
  private readonly epoch: number;

  /** A new, empty disk. (`disk` is for `powerLoss`: the next boot of the same disk.) */
  constructor(options: PowerLossFsOptions = {}, disk?: Disk) {
    this.disk = disk ?? { root: { kind: 'directory', entries: new Map(), durable: new Map() }, epoch: 0, lying: options.lying };
    this.epoch = this.disk.epoch;
  }

  private get root(): DirectoryNode {
    return this.disk.root;
  }

  async open(path: string, flags: 'r+' | 'w' | 'wx'): Promise<StorageFile> {
    await this.turn('open', path);
    const { parent, name } = this.parentOf(path, 'open');
    let node = parent.entries.get(name);
    if (node?.kind === 'directory') throw new FsError('EISDIR', 'open', path);
    if (node !== undefined && flags === 'wx') throw new FsError('EEXIST', 'open', path);
    if (node === undefined && flags === 'r+') throw new FsError('ENOENT', 'open', path);
    if (node === undefined) {
      node = { kind: 'file', current: Buffer.alloc(0), durable: Buffer.alloc(0), writes: 0, syncedWrites: 0 };
      parent.entries.set(name, node);
    } else if (flags === 'w') {
      node.current = Buffer.alloc(0);
      node.writes += 1;
    }
    return new PowerLossFile(this, node, path);
  }

  async readFile(path: string): Promise<Buffer> {
    await this.turn('read', path);
    return Buffer.from(this.file(path, 'open').current);
  }

  async readdir(path: string): Promise<string[]> {
    await this.turn('scandir', path);
    return [...this.directory(path, 'scandir').entries.keys()].sort();
  }

  async rename(from: string, to: string): Promise<void> {
    await this.turn('rename', from);
    const source = this.parentOf(from, 'rename');
    const node = source.parent.entries.get(source.name);
    if (node === undefined) throw new FsError('ENOENT', 'rename', from);
    const target = this.parentOf(to, 'rename');
    if (target.parent.entries.get(target.name)?.kind === 'directory') throw new FsError('EISDIR', 'rename', to);
    source.parent.entries.delete(source.name);
    target.parent.entries.set(target.name, node);
  }

  async rm(path: string): Promise<void> {
    await this.turn('rm', path);
    const { parent, name } = this.parentOf(path, 'rm');
    if (parent.entries.get(name)?.kind === 'directory') throw new FsError('EISDIR', 'rm', path);
    parent.entries.delete(name);
  }

  async mkdir(path: string): Promise<string | undefined> {
    await this.turn('mkdir', path);
    let firstCreated: string | undefined;
    let at = this.root;
    let walked = '/';
    for (const part of this.parts(path)) {
      walked = posix.join(walked, part);
      const next = at.entries.get(part);
      if (next?.kind === 'file') throw new FsError('ENOTDIR', 'mkdir', path);
      if (next === undefined) {
        const created: DirectoryNode = { kind: 'directory', entries: new Map(), durable: new Map() };
        at.entries.set(part, created);
        firstCreated ??= walked;
        at = created;
      } else {
        at = next;
      }
    }
    return firstCreated;
  }

  async fsyncDirectory(path: string): Promise<void> {
    if (this.isStale()) throw new FsError('EIO', 'fsync', path);
    const directory = this.directory(path, 'fsync');
    const entries = new Map(directory.entries);
    await this.turn('fsync', path);
    directory.durable = entries;
  }

  /**
   * Cuts the power: every file and directory falls back to what the model lets survive, drawing from
   * `random` (floats in [0, 1), e.g. @k8ts/base's seededRandom(seed)). Returns the file system of the
   * next boot, and what happened to each file that had unsynced data (for a failing test to print).
   */
  powerLoss(random: () => number): { readonly rebooted: PowerLossFs; readonly losses: FileLoss[] } {
    if (this.isStale()) throw new Error('this boot of the disk already lost power; use the rebooted file system');
    this.disk.epoch += 1;
    const losses: FileLoss[] = [];
    const seen = new Set<Node>();
    const revert = (directory: DirectoryNode, path: string): void => {
      directory.entries = new Map(directory.durable);
      for (const [name, node] of directory.entries) {
        if (seen.has(node)) continue;
        seen.add(node);
        const child = posix.join(path, name);
        if (node.kind === 'directory') revert(node, child);
        else {
          const loss = revertFile(node, child, random);
          if (loss !== undefined) losses.push(loss);
        }
      }
    };
    revert(this.root, '/');
    return { rebooted: new PowerLossFs({}, this.disk), losses };
  }

  /**
   * Whether some file holds writes no completed sync covered: a power cut now can lose them. Tests use
   * it to cut in the middle of a save.
   */
  hasUnsyncedWrites(): boolean {
    const unsynced = (directory: DirectoryNode): boolean =>
      [...directory.entries.values()].some((node) => (node.kind === 'directory' ? unsynced(node) : node.writes !== node.syncedWrites));
    return unsynced(this.root);
  }

  /** Whether the power went out since this boot: then everything done through it fails. */
  isStale(): boolean {
    return this.epoch !== this.disk.epoch;
  }

  /** Lets other work run, as a real system call would; fails if the power went out meanwhile. */
  async turn(syscall: string, path: string): Promise<void> {
    if (this.isStale()) throw new FsError('EIO', syscall, path);
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.isStale()) throw new FsError('EIO', syscall, path);
  }

  /** What a sync called now makes durable once it completes: nothing on a lying disk. */
  contentToSync(node: FileNode, call: 'fsync' | 'fdatasync'): Buffer | undefined {
    const lies = this.disk.lying === 'every sync' || this.disk.lying === call;
    return lies ? undefined : Buffer.from(node.current);
  }

  private parts(path: string): string[] {
    return posix.resolve('/', path).split('/').filter((part) => part !== '');
  }

  private lookup(path: string): Node | undefined {
    let at: Node = this.root;
    for (const part of this.parts(path)) {
      if (at.kind !== 'directory') return undefined;
      const next: Node | undefined = at.entries.get(part);
      if (next === undefined) return undefined;
      at = next;
    }
    return at;
  }

  private directory(path: string, syscall: string): DirectoryNode {
    const node = this.lookup(path);
    if (node === undefined) throw new FsError('ENOENT', syscall, path);
    if (node.kind !== 'directory') throw new FsError('ENOTDIR', syscall, path);
    return node;
  }

  private file(path: string, syscall: string): FileNode {
    const node = this.lookup(path);
    if (node === undefined) throw new FsError('ENOENT', syscall, path);
    if (node.kind !== 'file') throw new FsError('EISDIR', syscall, path);
    return node;
  }

  private parentOf(path: string, syscall: string): { parent: DirectoryNode; name: string } {
    const absolute = posix.resolve('/', path);
    const name = posix.basename(absolute);
    if (name === '') throw new FsError('EINVAL', syscall, path);
    return { parent: this.directory(posix.dirname(absolute), syscall), name };
  }
}

class PowerLossFile implements StorageFile {
  private closed = false;

  constructor(
    private readonly fs: PowerLossFs,
    private readonly node: FileNode,
    private readonly path: string,
  ) {}

  writeSync(bytes: Uint8Array, offset: number, length: number, position: number): number {
    this.usable('write');
    const end = position + length;
    if (end > this.node.current.length) {
      const grown = Buffer.alloc(end);
      this.node.current.copy(grown);
      this.node.current = grown;
    }
    this.node.current.set(bytes.subarray(offset, offset + length), position);
    this.node.writes += 1;
    return length;
  }

  async write(bytes: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    await this.fs.turn('write', this.path);
    return this.writeSync(bytes, offset, length, position);
  }

  datasync(): Promise<void> {
    return this.syncAs('fdatasync');
  }

  /** As `datasync`, but complete when it returns, as a blocking call is: no turn for a power loss to fall in. */
  datasyncSync(): void {
    this.usable('fdatasync');
    this.completeSync(this.fs.contentToSync(this.node, 'fdatasync'), this.node.writes);
  }

  sync(): Promise<void> {
    return this.syncAs('fsync');
  }

  private async syncAs(call: 'fsync' | 'fdatasync'): Promise<void> {
    this.usable(call);
    const content = this.fs.contentToSync(this.node, call);
    const writes = this.node.writes;
    await this.fs.turn(call, this.path);
    this.completeSync(content, writes);
  }

  /** A sync returns: `content` (taken when it was called; none on a lying disk) is durable, covering the first `writes` writes. */
  private completeSync(content: Buffer | undefined, writes: number): void {
    if (content === undefined) return;
    this.node.durable = content;
    this.node.syncedWrites = Math.max(this.node.syncedWrites, writes);
  }

  async truncate(length: number): Promise<void> {
    await this.fs.turn('ftruncate', this.path);
    this.usable('ftruncate');
    const truncated = Buffer.alloc(length);
    this.node.current.copy(truncated, 0, 0, Math.min(length, this.node.current.length));
    this.node.current = truncated;
    this.node.writes += 1;
  }

  async close(): Promise<void> {
    this.usable('close');
    this.closed = true;
  }

  private usable(syscall: string): void {
    if (this.fs.isStale()) throw new FsError('EIO', syscall, this.path);
    if (this.closed) throw new FsError('EBADF', syscall, this.path);
  }
}

/** A file after the power cut, as the model in PowerLossFs says; undefined when nothing was unsynced. */
function revertFile(node: FileNode, path: string, random: () => number): FileLoss | undefined {
  node.syncedWrites = node.writes; // whatever it holds after the cut is on the disk
  const { current, durable } = node;
  const pageCount = Math.ceil(Math.max(current.length, durable.length) / PAGE_BYTES);
  const dirty: number[] = [];
  for (let page = 0; page < pageCount; page += 1) {
    const start = page * PAGE_BYTES;
    const end = start + PAGE_BYTES;
    if (!current.subarray(start, end).equals(durable.subarray(start, end))) dirty.push(page);
  }
  if (dirty.length === 0 && current.length === durable.length) return undefined;
  const survived = Math.floor(random() * (dirty.length + 1));
  let after: Buffer;
  let tornBytes: number | undefined;
  if (survived === dirty.length) {
    after = Buffer.from(current); // everything since the last sync reached the disk, size included
  } else {
    // The extent of what reached the disk: whole surviving pages, then the torn page.
    const tornPage = dirty[survived] ?? 0;
    tornBytes = Math.floor(random() * PAGE_BYTES);
    const tornEnd = Math.min(current.length, tornPage * PAGE_BYTES + tornBytes);
    const zeroFilled = random() < 0.5; // the size covers the whole torn page (zeroes) or ends at the tear
    const reached = zeroFilled ? Math.min(current.length, (tornPage + 1) * PAGE_BYTES) : tornEnd;
    const wholeEnd = Math.min(current.length, dirty.slice(0, survived).reduce((end, page) => Math.max(end, (page + 1) * PAGE_BYTES), 0));
    const size = Math.max(durable.length, wholeEnd, reached);
    after = Buffer.alloc(size);
    durable.copy(after, 0, 0, Math.min(durable.length, size));
    for (const page of dirty.slice(0, survived)) {
      const start = page * PAGE_BYTES;
      current.copy(after, start, start, Math.min(start + PAGE_BYTES, current.length, size));
    }
    const tornStart = tornPage * PAGE_BYTES;
    if (tornEnd > tornStart) current.copy(after, tornStart, tornStart, Math.min(tornEnd, size));
  }
  node.current = after;
  node.durable = Buffer.from(after);
  return {
    path,
    dirtyPages: dirty.length,
    survivedPages: survived,
    ...(tornBytes === undefined ? {} : { tornBytes }),
    sizeBefore: current.length,
    sizeAfter: after.length,
  };
}
