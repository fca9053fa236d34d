import { seededRandom } from '@k8ts/base';
import type { KubeObject, ResourceClient } from '@k8ts/client';
import type { ComponentProcess } from '@k8ts/testkit';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControlPlane, eventually, managerLeads } from './control_plane.js';
import { PodCreationLog, type PodCreation } from './pod_creations.js';

/**
 * Leader failover of the controller manager under a ReplicaSet workload: two k8ts-controller-manager
 * replicas (`--controllers replicaset`, 4 s leases); for each of 20 seeds a round creates one
 * ReplicaSet and scales an earlier one up, and the leader is killed with -9 once the test's pod
 * watch has seen k creations in that round (k drawn from the seed: an event count, never a sleep).
 * The other replica must take the Lease and finish the work; the killed one is restarted as the
 * next standby. A watch over the whole run records every pod ever created, and the checker below
 * — which knows nothing of the controller — holds the run to: for every ReplicaSet, pods ever
 * created == replicas asked (nothing is deleted in this workload, so any excess is a pod created
 * twice), and never more live than asked.
 */

type ReplicaSetObject = ReplicaSet & KubeObject;

const NAMESPACE = 'failover';
const SEEDS = Array.from({ length: 20 }, (_, round) => 1000 + round);
const WAIT_MS = 60_000;

/** What the checker judges: the replicas asked per ReplicaSet uid, every pod ever created, and live pods per owner uid. */
interface FailoverHistory {
  readonly asked: ReadonlyMap<string, number>;
  readonly created: readonly PodCreation[];
  readonly live: ReadonlyMap<string, number>;
}

/** The violations of "no pod created twice, none beyond replicas" in a history ([] when it holds). */
function checkNoPodCreatedTwice(history: FailoverHistory): string[] {
  const violations: string[] = [];
  const createdByOwner = new Map<string, Set<string>>();
  for (const pod of history.created) {
    if (!history.asked.has(pod.ownerUid)) violations.push(`pod ${pod.name} was created for an owner no ReplicaSet of the workload has (${pod.ownerUid || 'none'})`);
    const pods = createdByOwner.get(pod.ownerUid) ?? new Set<string>();
    pods.add(pod.uid);
    createdByOwner.set(pod.ownerUid, pods);
  }
  for (const [owner, replicas] of history.asked) {
    const created = createdByOwner.get(owner)?.size ?? 0;
    if (created !== replicas) violations.push(`ReplicaSet ${owner}: ${created} pods ever created for ${replicas} replicas asked`);
    const live = history.live.get(owner) ?? 0;
    if (live > replicas) violations.push(`ReplicaSet ${owner}: ${live} pods live for ${replicas} replicas asked`);
  }
  return violations;
}

describe('the failover checker has teeth', () => {
  const asked = new Map([['rs-a', 3]]);
  const pod = (uid: string): PodCreation => ({ uid, name: `a-${uid}`, ownerUid: 'rs-a' });

  test('a history where every replica was created once passes', () => {
    expect(checkNoPodCreatedTwice({ asked, created: [pod('1'), pod('2'), pod('3')], live: new Map([['rs-a', 3]]) })).toEqual([]);
  });

  test('one pod created twice (its duplicate later deleted) is caught', () => {
    const history = { asked, created: [pod('1'), pod('2'), pod('3'), pod('4')], live: new Map([['rs-a', 3]]) };
    expect(checkNoPodCreatedTwice(history)).toEqual(['ReplicaSet rs-a: 4 pods ever created for 3 replicas asked']);
  });

  test('more live than asked, or a pod of an unknown owner, is caught', () => {
    expect(checkNoPodCreatedTwice({ asked, created: [pod('1'), pod('2'), pod('3')], live: new Map([['rs-a', 4]]) })).toEqual(['ReplicaSet rs-a: 4 pods live for 3 replicas asked']);
    expect(checkNoPodCreatedTwice({ asked, created: [pod('1'), pod('2'), pod('3'), { uid: '9', name: 'x', ownerUid: '' }], live: new Map([['rs-a', 3]]) })).toHaveLength(1);
  });
});

let plane: ControlPlane;
let replicaSets: ResourceClient<ReplicaSetObject>;

/** Live (not terminating) pods per controller owner uid. */
async function livePods(): Promise<Map<string, number>> {
  const { items } = await plane.client.resource<Pod & KubeObject>('', 'v1', 'pods').namespace(NAMESPACE).list();
  const live = new Map<string, number>();
  for (const pod of items) {
    if (pod.metadata?.deletionTimestamp !== undefined) continue;
    const owner = pod.metadata?.ownerReferences?.find((reference) => reference.controller === true)?.uid ?? '';
    live.set(owner, (live.get(owner) ?? 0) + 1);
  }
  return live;
}

beforeAll(async () => {
  plane = await ControlPlane.start();
  replicaSets = plane.client.resource<ReplicaSetObject>('apps', 'v1', 'replicasets');
  await plane.createNamespace(NAMESPACE);
}, 60_000);

afterAll(async () => {
  await plane?.stop();
});

describe('controller manager failover (kill -9 of the leader at 20 seeded points)', () => {
  test(
    'the other replica takes over and finishes; no pod is ever created twice',
    async () => {
      const log = await PodCreationLog.start(plane.client, NAMESPACE);
      const managers = [await plane.startManager('replicaset'), await plane.startManager('replicaset')];
      const asked = new Map<string, number>();
      const names: string[] = [];
      const takeoverMs: number[] = [];
      const finishedMs: number[] = [];
      const killPoints: string[] = [];
      try {
        for (const [round, seed] of SEEDS.entries()) {
          const random = seededRandom(seed);
          await eventually(async () => (await Promise.all(managers.map(managerLeads))).filter(Boolean).length === 1, WAIT_MS, `round ${round}: one leader`);
          const leaderIndex = (await managerLeads(managers[0] as ComponentProcess)) ? 0 : 1;
          const leader = managers[leaderIndex] as ComponentProcess;
          const heldBy = await plane.leaseHolder();

          // The round's work: a new ReplicaSet of 5..20 replicas, and an earlier one scaled up by 1..5.
          const newReplicas = 5 + Math.floor(random() * 16);
          const scaled = names.length > 0 ? names[Math.floor(random() * names.length)] : undefined;
          const scaleBy = scaled === undefined ? 0 : 1 + Math.floor(random() * 5);
          const killAfter = Math.floor(random() * (newReplicas + scaleBy));
          killPoints.push(`seed ${seed}: kill after ${killAfter} of ${newReplicas + scaleBy} creations`);
          const roundStart = log.creations.length;

          const name = `rs-${round}`;
          const created = await replicaSets.namespace(NAMESPACE).create({
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            metadata: { name },
            spec: { replicas: newReplicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } },
          });
          asked.set(created.metadata?.uid ?? '', newReplicas);
          names.push(name);
          if (scaled !== undefined) {
            const current = await replicaSets.namespace(NAMESPACE).get(scaled);
            const replicas = (current.spec?.replicas ?? 0) + scaleBy;
            asked.set(current.metadata?.uid ?? '', replicas);
            await replicaSets.namespace(NAMESPACE).patch(scaled, 'merge', { spec: { replicas } });
          }

          await log.until(() => log.creations.length - roundStart >= killAfter);
          const killedAt = Date.now();
          await leader.kill();
          await eventually(async () => {
            const now = await plane.leaseHolder();
            return now !== '' && now !== heldBy;
          }, WAIT_MS, `round ${round}: the Lease taken over`);
          takeoverMs.push(Date.now() - killedAt);
          managers[leaderIndex] = await plane.startManager('replicaset');

          await eventually(async () => {
            const live = await livePods();
            return [...asked].every(([owner, replicas]) => live.get(owner) === replicas);
          }, WAIT_MS, `round ${round}: every ReplicaSet at its replicas`);
          finishedMs.push(Date.now() - killedAt);
          expect(checkNoPodCreatedTwice({ asked, created: log.creations, live: await livePods() }), `after round ${round} (seed ${seed})`).toEqual([]);
        }
      } finally {
        await log.stop();
        await Promise.all(managers.map((manager) => manager.kill()));
      }
      expect(checkNoPodCreatedTwice({ asked, created: log.creations, live: await livePods() })).toEqual([]);
      const total = [...asked.values()].reduce((sum, replicas) => sum + replicas, 0);
      expect(log.creations).toHaveLength(total);
      const summary = (values: number[]): string => {
        const sorted = [...values].sort((a, b) => a - b);
        return `min ${sorted[0]} ms, median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms`;
      };
      console.log(
        [
          `failover: ${SEEDS.length} kills, ${asked.size} ReplicaSets, ${total} pods, none created twice`,
          `takeover (kill -9 → Lease holder changed): ${summary(takeoverMs)} [${takeoverMs.join(', ')}]`,
          `work finished (kill -9 → every ReplicaSet at its replicas): ${summary(finishedMs)}`,
          ...killPoints,
        ].join('\n'),
      );
    },
    15 * 60_000,
  );
});
