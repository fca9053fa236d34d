/**
 * The reference beside `k8ts bench up`'s idle figures: three members of a store with no client at
 * all, on loopback with etcd's default timings (100 ms heartbeats), measured from /proc over the
 * same window as the cluster. What Raft's heartbeats alone cost on this machine, for etcd 3.4 and
 * for k8ts-store: the floor under any whole cluster's idle CPU.
 */
import { TestCluster, waitForLeader, type StoreKind } from '@k8ts/testkit';
import { measureCpu } from './cpu.js';
import { processRssBytes } from './pods_agents.js';

export interface IdleStoreFigures {
  readonly kind: StoreKind;
  readonly cpuPercent: number;
  readonly rssMiB: number;
}

export async function idleStoreMembers(kind: StoreKind, seconds: number): Promise<IdleStoreFigures> {
  const cluster = await TestCluster.start(kind);
  try {
    await waitForLeader(cluster.endpoints);
    const pids = cluster.members.flatMap((member) => (member.process?.pid === undefined ? [] : [member.process.pid]));
    // The window idles by design: a member gone meanwhile leaves no figure (NaN), not a low one.
    const { cpu } = await measureCpu(pids, () => new Promise((done) => setTimeout(done, seconds * 1000)));
    const cpuPercent = cpu.membersPercent ?? Number.NaN;
    const rssMiB = Math.round((pids.reduce((sum, pid) => sum + (processRssBytes(pid) ?? 0), 0) / 2 ** 20) * 10) / 10;
    return { kind, cpuPercent, rssMiB };
  } finally {
    await cluster.stop();
  }
}
