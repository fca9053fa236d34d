import { describe, expect, test } from 'vitest';
import { PAGE_BYTES, PowerLossFs } from './power_loss_fs.js';

/** A draw function that returns the given values in turn (then 0). */
function draws(...values: number[]): () => number {
  return () => values.shift() ?? 0;
}

async function fileWith(fs: PowerLossFs, path: string, bytes: Buffer, sync: boolean): Promise<void> {
  const file = await fs.open(path, 'w');
  file.writeSync(bytes, 0, bytes.length, 0);
  if (sync) await file.datasync();
  await file.close();
}

async function durableDirectory(): Promise<PowerLossFs> {
  const fs = new PowerLossFs();
  await fs.mkdir('/data');
  await fs.fsyncDirectory('/');
  return fs;
}

describe('PowerLossFs', () => {
  test('a synced write survives a power loss', async () => {
    const fs = await durableDirectory();
    await fileWith(fs, '/data/a', Buffer.from('synced'), true);
    await fs.fsyncDirectory('/data');
    const { rebooted } = fs.powerLoss(draws(0));
    expect((await rebooted.readFile('/data/a')).toString()).toBe('synced');
  });

  test('an unsynced write is lost when writeback kept none of its pages', async () => {
    const fs = await durableDirectory();
    await fileWith(fs, '/data/a', Buffer.from('first'), true);
    await fs.fsyncDirectory('/data');
    const file = await fs.open('/data/a', 'r+');
    file.writeSync(Buffer.from('-second'), 0, 7, 5);
    const { rebooted, losses } = fs.powerLoss(draws(0, 0, 0.9)); // no page survives, tear at 0, size at the tear
    expect((await rebooted.readFile('/data/a')).toString()).toBe('first');
    expect(losses).toEqual([{ path: '/data/a', dirtyPages: 1, survivedPages: 0, tornBytes: 0, sizeBefore: 12, sizeAfter: 5 }]);
  });

  test('an unsynced write may also survive whole', async () => {
    const fs = await durableDirectory();
    await fileWith(fs, '/data/a', Buffer.from('unsynced'), false);
    await fs.fsyncDirectory('/data');
    const { rebooted } = fs.powerLoss(draws(0.99));
    expect((await rebooted.readFile('/data/a')).toString()).toBe('unsynced');
  });

  test('a sync still under way when the power goes makes nothing durable', async () => {
    const fs = await durableDirectory();
    const file = await fs.open('/data/a', 'w');
    await fs.fsyncDirectory('/data');
    file.writeSync(Buffer.from('x'), 0, 1, 0);
    const syncing = file.datasync();
    const { rebooted } = fs.powerLoss(draws(0, 0, 0.9));
    await expect(syncing).rejects.toThrow(/EIO/);
    expect((await rebooted.readFile('/data/a')).length).toBe(0);
  });

  test('a blocking fdatasync is durable when it returns; through a dead boot it fails', async () => {
    const fs = await durableDirectory();
    const file = await fs.open('/data/a', 'w');
    await fs.fsyncDirectory('/data');
    file.writeSync(Buffer.from('blocking'), 0, 8, 0);
    file.datasyncSync();
    const { rebooted } = fs.powerLoss(draws(0, 0, 0.9)); // no dirty page would survive
    expect((await rebooted.readFile('/data/a')).toString()).toBe('blocking');
    expect(() => file.datasyncSync()).toThrow(/EIO/);
  });

  test('a lying disk\'s blocking fdatasync makes nothing durable', async () => {
    const fs = new PowerLossFs({ lying: 'fdatasync' });
    await fs.mkdir('/data');
    await fs.fsyncDirectory('/');
    const file = await fs.open('/data/a', 'w');
    await fs.fsyncDirectory('/data');
    file.writeSync(Buffer.from('x'), 0, 1, 0);
    file.datasyncSync();
    const { rebooted } = fs.powerLoss(draws(0, 0, 0.9));
    expect((await rebooted.readFile('/data/a')).length).toBe(0);
  });

  test('a rename without a directory fsync reverts; with one it stays', async () => {
    const fs = await durableDirectory();
    await fileWith(fs, '/data/a.tmp', Buffer.from('content'), true);
    await fs.fsyncDirectory('/data');
    await fs.rename('/data/a.tmp', '/data/a');
    const first = fs.powerLoss(draws()).rebooted;
    expect(await first.readdir('/data')).toEqual(['a.tmp']);
    expect((await first.readFile('/data/a.tmp')).toString()).toBe('content');

    await first.rename('/data/a.tmp', '/data/a');
    await first.fsyncDirectory('/data');
    const second = first.powerLoss(draws()).rebooted;
    expect(await second.readdir('/data')).toEqual(['a']);
  });

  test('a new file and a new directory vanish without an fsync of their parent; a removal comes back', async () => {
    const fs = new PowerLossFs();
    await fs.mkdir('/data/wal');
    await fileWith(fs, '/data/wal/a', Buffer.from('synced'), true);
    expect(await fs.powerLoss(draws()).rebooted.readdir('/')).toEqual([]);

    const again = new PowerLossFs();
    await again.mkdir('/data');
    await again.fsyncDirectory('/');
    await fileWith(again, '/data/a', Buffer.from('synced'), true);
    await again.fsyncDirectory('/data');
    await again.rm('/data/a');
    const rebooted = again.powerLoss(draws()).rebooted;
    expect((await rebooted.readFile('/data/a')).toString()).toBe('synced');
  });

  test('writeback keeps a prefix of the dirty pages in file order and tears the next one', async () => {
    const fs = await durableDirectory();
    await fileWith(fs, '/data/log', Buffer.alloc(100, 1), true);
    await fs.fsyncDirectory('/data');
    const file = await fs.open('/data/log', 'r+');
    const appended = Buffer.alloc(3 * PAGE_BYTES, 2);
    file.writeSync(appended, 0, appended.length, 100); // dirties pages 0..3
    // 4 dirty pages: 2 survive whole (draw 0.5 → floor(0.5 * 5)), page 2 keeps 10 bytes, size cut at the tear.
    const { rebooted, losses } = fs.powerLoss(draws(0.5, 10 / PAGE_BYTES, 0.9));
    const after = await rebooted.readFile('/data/log');
    expect(losses[0]).toMatchObject({ dirtyPages: 4, survivedPages: 2, tornBytes: 10 });
    expect(after.length).toBe(2 * PAGE_BYTES + 10);
    expect(after.subarray(0, 100).every((byte) => byte === 1)).toBe(true);
    expect(after.subarray(100).every((byte) => byte === 2)).toBe(true);
  });

  test('a torn page past the durable size may be zero-filled to its end', async () => {
    const fs = await durableDirectory();
    await fileWith(fs, '/data/log', Buffer.alloc(10, 1), true);
    await fs.fsyncDirectory('/data');
    const file = await fs.open('/data/log', 'r+');
    file.writeSync(Buffer.alloc(PAGE_BYTES, 2), 0, PAGE_BYTES, 10); // pages 0 and 1
    const { rebooted } = fs.powerLoss(draws(0, 20 / PAGE_BYTES, 0.1)); // page 0 torn after 20 bytes, zero-filled
    const after = await rebooted.readFile('/data/log');
    expect(after.length).toBe(PAGE_BYTES);
    expect([...after.subarray(0, 10)]).toEqual(Array(10).fill(1));
    expect([...after.subarray(10, 20)]).toEqual(Array(10).fill(2));
    expect(after.subarray(20).every((byte) => byte === 0)).toBe(true);
  });

  test('an unsynced truncation is undone unless everything since the sync survived', async () => {
    const fs = await durableDirectory();
    await fileWith(fs, '/data/log', Buffer.alloc(PAGE_BYTES + 5, 7), true);
    await fs.fsyncDirectory('/data');
    const file = await fs.open('/data/log', 'r+');
    await file.truncate(3);
    const { rebooted } = fs.powerLoss(draws(0, 0, 0));
    expect((await rebooted.readFile('/data/log')).length).toBe(PAGE_BYTES + 5);
  });

  test('after a power loss the old boot and its open files fail with EIO', async () => {
    const fs = await durableDirectory();
    const file = await fs.open('/data/a', 'w');
    const { rebooted } = fs.powerLoss(draws());
    expect(() => file.writeSync(Buffer.from('x'), 0, 1, 0)).toThrow(/EIO/);
    await expect(fs.open('/data/b', 'w')).rejects.toThrow(/EIO/);
    await expect(fs.fsyncDirectory('/data')).rejects.toThrow(/EIO/);
    expect(() => fs.powerLoss(draws())).toThrow(/rebooted/);
    expect(await rebooted.readdir('/data')).toEqual([]);
  });

  test("lying 'fdatasync': fdatasync makes nothing durable, fsync still does", async () => {
    const fs = new PowerLossFs({ lying: 'fdatasync' });
    await fs.mkdir('/data');
    await fs.fsyncDirectory('/');
    const file = await fs.open('/data/a', 'w');
    file.writeSync(Buffer.from('fsynced'), 0, 7, 0);
    await file.sync();
    file.writeSync(Buffer.from('+fdatasynced'), 0, 12, 7);
    await file.datasync();
    await fs.fsyncDirectory('/data');
    const { rebooted } = fs.powerLoss(draws(0, 0, 0.9));
    expect((await rebooted.readFile('/data/a')).toString()).toBe('fsynced');
  });

  test("lying 'every sync': no sync makes anything durable", async () => {
    const fs = new PowerLossFs({ lying: 'every sync' });
    await fs.mkdir('/data');
    await fs.fsyncDirectory('/');
    await fileWith(fs, '/data/a', Buffer.from('synced?'), true);
    await fs.fsyncDirectory('/data');
    const { rebooted } = fs.powerLoss(draws(0, 0, 0.9));
    expect((await rebooted.readFile('/data/a')).length).toBe(0);
    expect(await rebooted.readdir('/data')).toEqual(['a']); // directory fsyncs still work
  });

  test('node-like errors: ENOENT, EEXIST', async () => {
    const fs = await durableDirectory();
    await expect(fs.open('/data/missing', 'r+')).rejects.toMatchObject({ code: 'ENOENT' });
    await fileWith(fs, '/data/a', Buffer.from('a'), false);
    await expect(fs.open('/data/a', 'wx')).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(fs.readdir('/nowhere')).rejects.toMatchObject({ code: 'ENOENT' });
    await fs.rm('/data/missing');
    expect(await fs.mkdir('/data')).toBeUndefined();
    expect(await fs.mkdir('/data/x/y')).toBe('/data/x');
  });

  test('hasUnsyncedWrites: from a write until a sync completes', async () => {
    const fs = await durableDirectory();
    const file = await fs.open('/data/a', 'w');
    expect(fs.hasUnsyncedWrites()).toBe(false); // nothing written yet
    file.writeSync(Buffer.from('x'), 0, 1, 0);
    const syncing = file.datasync();
    expect(fs.hasUnsyncedWrites()).toBe(true);
    await syncing;
    expect(fs.hasUnsyncedWrites()).toBe(false);
  });
});
