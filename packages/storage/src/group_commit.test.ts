import { rm } from 'node:fs/promises';
import { afterEach, expect, test } from 'vitest';
import { RaftStorage } from './index.js';
import { capturingLogger, entries, entry, temporaryDirectory } from './testing/fixtures.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function openRecordingSyncs(): Promise<{ storage: RaftStorage; syncs: { durationMs: number; records: number }[] }> {
  const dir = await temporaryDirectory();
  dirs.push(dir);
  const syncs: { durationMs: number; records: number }[] = [];
  const storage = await RaftStorage.open(dir, {
    logger: capturingLogger().logger,
    onSync: (durationMs, records) => syncs.push({ durationMs, records }),
  });
  return { storage, syncs };
}

test('200 saves made at once are made durable by one fdatasync', async () => {
  const { storage, syncs } = await openRecordingSyncs();
  const saves = Array.from({ length: 200 }, (_, offset) =>
    storage.save({ entries: [entry(offset + 1)], hardState: { term: 1, vote: 1, commit: offset } }),
  );
  await Promise.all(saves);

  expect(syncs).toHaveLength(1);
  expect(syncs[0]?.records).toBe(400);
  expect(syncs[0]?.durationMs).toBeGreaterThanOrEqual(0);
  expect(storage.stats()).toMatchObject({ appends: 200, records: 400, syncs: 1 });
  await storage.close();
});

test('saves that arrive while a sync is in flight queue up and share the next one', async () => {
  const { storage, syncs } = await openRecordingSyncs();
  const first = storage.save({ entries: [entry(1)] });
  // Let the first save's write start, so the rest arrive while its sync is under way.
  await new Promise((resolve) => setImmediate(resolve));
  const later = entries(2, 51).map((each) => storage.save({ entries: [each] }));
  await Promise.all([first, ...later]);

  expect(syncs.map((sync) => sync.records)).toEqual([1, 50]);
  await storage.close();
});

test('a steady stream of overlapping saves needs far fewer syncs than saves', async () => {
  const { storage, syncs } = await openRecordingSyncs();
  let index = 0;
  // Eight writers, each saving again as soon as its last save is durable: the shape of a busy leader.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (index < 400) {
        index += 1;
        await storage.save({ entries: [entry(index)] });
      }
    }),
  );
  expect(storage.stats().appends).toBe(400);
  expect(syncs.length).toBeLessThanOrEqual(100);
  await storage.close();
});

test('a save with nothing in it writes nothing and waits for the saves before it', async () => {
  const { storage, syncs } = await openRecordingSyncs();
  let firstDone = false;
  const first = storage.save({ entries: entries(1, 3) }).then(() => (firstDone = true));
  await storage.save({ entries: [] });
  expect(firstDone).toBe(true);
  await first;
  await storage.save({ entries: [] });
  expect(syncs).toHaveLength(1);
  await storage.close();
});

test('a throwing onSync hook is logged and does not break the WAL', async () => {
  const dir = await temporaryDirectory();
  dirs.push(dir);
  const { logger, lines } = capturingLogger();
  const storage = await RaftStorage.open(dir, {
    logger,
    onSync: () => {
      throw new Error('metrics exploded');
    },
  });
  await storage.save({ entries: [entry(1)] });
  await storage.save({ entries: [entry(2)] });
  expect(lines.filter((line) => line.msg === 'onSync hook threw')).toHaveLength(2);
  await storage.close();
});

test('a batch that crosses a segment boundary is cut between saves and reads back whole', async () => {
  const dir = await temporaryDirectory();
  dirs.push(dir);
  const syncs: number[] = [];
  const storage = await RaftStorage.open(dir, {
    logger: capturingLogger().logger,
    segmentSizeBytes: 2048,
    onSync: (_, records) => syncs.push(records),
  });
  await Promise.all(entries(1, 100, 1, 50).map((each) => storage.save({ entries: [each] })));
  expect(storage.stats().segments).toBeGreaterThan(3);
  expect(syncs.reduce((sum, records) => sum + records, 0)).toBe(100);
  expect(syncs.length).toBe(storage.stats().segments); // one sync per segment filled, before each cut
  await storage.close();

  const reopened = await RaftStorage.open(dir, { logger: capturingLogger().logger, segmentSizeBytes: 2048 });
  expect(reopened.load().entries).toEqual(entries(1, 100, 1, 50));
  await reopened.close();
});
