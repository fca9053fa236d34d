import { seededRandom } from '@k8ts/testkit';
import { afterEach, describe, expect, test } from 'vitest';
import { errorText } from '../store_harness.js';
import { PowerLossCluster, PutWriter, lostPuts } from './power_loss_cluster.js';

/**
 * Issue 15: the store under a power cut. Three members over PowerLossFs (unsynced data dropped, the
 * last page torn, unsynced directory changes reverted); puts run throughout; the power goes to one
 * member (restart it), then to all three at once (restart all). Every acknowledged put must then be
 * readable, at the revision it was acknowledged with.
 */

interface Run {
  readonly acked: number;
  /** Whether each cut came while a member had written but unsynced data. */
  readonly midSave: readonly boolean[];
}

type Verdict =
  | (Run & { readonly kind: 'ok' })
  | (Run & { readonly kind: 'lost'; readonly lost: readonly string[] })
  | (Run & { readonly kind: 'unrecoverable'; readonly error: string });

let cluster: PowerLossCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function powerCutScenario(seed: number, withoutFdatasync: boolean): Promise<Verdict> {
  const random = seededRandom(seed);
  const started = await PowerLossCluster.start({ withoutFdatasync });
  cluster = started;
  await started.serving();
  const writer = new PutWriter(started, 4);
  const midSave: boolean[] = [];
  try {
    await writer.until(60);
    const victim = Math.floor(random() * 3);
    midSave.push((await started.cutMidSave([victim], random)).midSave);
    await writer.until(writer.acked.length + 40); // two members still serve
    await started.restart([victim]);
    await writer.until(writer.acked.length + 40);
    midSave.push((await started.cutMidSave([0, 1, 2], random)).midSave); // all in one event-loop turn
  } finally {
    await writer.stop();
  }
  const run = { acked: writer.acked.length, midSave };
  try {
    await started.restart([0, 1, 2]);
    await started.serving();
  } catch (error) {
    return { kind: 'unrecoverable', ...run, error: errorText(error) };
  }
  const [client] = started.clients();
  if (client === undefined) throw new Error('no client');
  const lost = await lostPuts(client, writer.acked);
  return lost.length === 0 ? { kind: 'ok', ...run } : { kind: 'lost', ...run, lost };
}

describe('the store under power loss (three members over PowerLossFs)', () => {
  for (const seed of [1, 2]) {
    test(`every acknowledged put survives a power cut to one member, then to all (seed ${seed})`, async () => {
      const verdict = await powerCutScenario(seed, false);
      expect(verdict).toEqual({ kind: 'ok', acked: verdict.acked, midSave: [true, true] });
      expect(verdict.acked).toBeGreaterThanOrEqual(140);
    }, 120_000);
  }

  test('with the fdatasync removed on every member, the check reports acknowledged puts lost', async () => {
    const verdicts: Verdict[] = [];
    for (let seed = 1; seed <= 3 && !verdicts.some((verdict) => verdict.kind === 'lost'); seed += 1) {
      verdicts.push(await powerCutScenario(seed, true));
      await cluster?.stop();
      cluster = undefined;
    }
    expect(verdicts.map((verdict) => verdict.kind)).toContain('lost');
  }, 300_000);
});
