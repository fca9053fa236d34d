import { TestCluster, waitForLeader } from '@k8ts/testkit';
import { afterEach, describe, expect, test } from 'vitest';
import { eventually, logEvents } from '../store_harness.js';

/**
 * etcd's initial election tick advance (etcdserver adjustTicks), read from the members' logs: the
 * effect is on timing (a randomized election timeout of [T, 2T) then has [1, T] or [2, T+1] ticks
 * left instead), which a test cannot assert without a wall-clock threshold; the start-up figures in
 * packages/cli/README.md show it.
 */
const FLAGS = ['--heartbeat-interval', '100', '--election-timeout', '1000'];

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function advances(c: TestCluster): number[][] {
  return c.members.map((member) =>
    logEvents(member)
      .filter((event) => event['event'] === 'initial-election-tick-advance')
      .map((event) => Number(event['ticks'])),
  );
}

describe('initial election tick advance (k8ts-store)', () => {
  test('a member alone fast-forwards all but the last tick of its election timeout', async () => {
    cluster = await TestCluster.start('k8ts', { size: 1, extraArgs: FLAGS });
    await waitForLeader(cluster.endpoints);
    expect(advances(cluster)).toEqual([[9]]);
  }, 45_000);

  test('members started together fast-forward all but two ticks, once, when their peers answer', async () => {
    cluster = await TestCluster.start('k8ts', { extraArgs: FLAGS });
    const started = cluster;
    await waitForLeader(started.endpoints);
    await eventually('every member advancing its ticks', 10_000, async () => {
      expect(advances(started)).toEqual([[8], [8], [8]]);
    });
  }, 45_000);

  test('with --initial-election-tick-advance=false they wait out the whole timeout', async () => {
    cluster = await TestCluster.start('k8ts', { extraArgs: [...FLAGS, '--initial-election-tick-advance=false'] });
    await waitForLeader(cluster.endpoints);
    expect(advances(cluster)).toEqual([[], [], []]);
  }, 45_000);
});
