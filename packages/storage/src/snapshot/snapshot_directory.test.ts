import { expect, test } from 'vitest';
import { snapshotAt } from '../testing/fixtures.js';
import { PowerLossFs } from '../testing/power_loss_fs.js';
import { SnapshotDirectory } from './snapshot_directory.js';

test('retention counts only snapshots at or below the one just made durable: newer files are still being saved', async () => {
  const fs = new PowerLossFs();
  await fs.mkdir('/snap');
  const snapshots = new SnapshotDirectory('/snap', fs);
  for (const index of [10, 20, 30, 40]) await snapshots.write(snapshotAt(index));
  // 40 is written but not yet acknowledged (its WAL marker is not durable): it must not push 10 and 20 out.
  expect(await snapshots.retainNewest(2, 30)).toEqual([{ index: 10, term: 1 }]);
  expect((await snapshots.list()).map((id) => id.index)).toEqual([40, 30, 20]);
});
