import { Role } from '@k8ts/raft';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RaftStatus } from '@k8ts/raft';
import { formatId } from './members.js';

/** What the metrics read from the server at scrape time. */
export interface MetricsSource {
  readonly node: { status(): RaftStatus };
  readonly stateMachine: {
    lastApplied(): number;
    readonly waiters: { size(): number };
    store(): { sizeBytes(): number; currentRevision(): number };
  };
  readonly watches: { size(): number };
}

/** Histogram buckets etcd uses for disk latencies: 1 ms to ~4 s, doubling. */
const DISK_BUCKETS = Array.from({ length: 13 }, (_, i) => 0.001 * 2 ** i);

export interface StoreMetrics {
  readonly registry: Registry;
  readonly walFsyncSeconds: Histogram;
  readonly applySeconds: Histogram;
  readonly proposalsFailed: Counter;
  readonly leaderChanges: Counter;
  /** Peer messages dropped on receipt (the Raft node's input queue was full), by sender. */
  readonly peerReceivedFailures: Counter<'From'>;
}

/**
 * The store's /metrics: etcd's names where etcd has the metric, so existing dashboards work, and
 * k8ts_store_* for what etcd's users ask for and etcd lacks (which member leads; each follower's
 * replication lag as the leader sees it). Gauges read the server at scrape time.
 */
export function createStoreMetrics(server: () => MetricsSource | undefined): StoreMetrics {
  const registry = new Registry();
  // Event-loop delay sampled once a second, not prom-client's every 10 ms: those 100 wake-ups a
  // second cost an idle process ~0.8% of a core. Its nodejs_eventloop_lag_* figures include the 1 s.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  const status = () => server()?.node.status();
  const gauge = (name: string, help: string, read: () => number | undefined): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const value = read();
        if (value !== undefined) this.set(value);
      },
    });
  };
  gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () => (status()?.leader ? 1 : 0));
  gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () => (status()?.role === Role.Leader ? 1 : 0));
  gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.', () => status()?.commit);
  gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.', () => server()?.stateMachine.lastApplied());
  gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', () => server()?.stateMachine.waiters.size());
  gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.', () => server()?.stateMachine.store().sizeBytes());
  gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.', () => server()?.stateMachine.store().currentRevision());
  gauge('k8ts_store_raft_term', 'The Raft term this member is in.', () => status()?.term);
  gauge('k8ts_store_leader_id', 'The member id of the leader this member follows (0: none).', () => status()?.leader);
  gauge('k8ts_store_watchers', 'Watches registered on this member.', () => server()?.watches.size());
  new Gauge({
    name: 'k8ts_store_follower_replication_lag_entries',
    help: "Entries each follower's log is behind the leader's, as the leader sees it (only on the leader).",
    labelNames: ['follower'],
    registers: [registry],
    collect() {
      this.reset();
      const current = status();
      if (current?.role !== Role.Leader) return;
      for (const follower of current.followers) this.set({ follower: formatId(follower.id) }, Math.max(0, current.lastIndex - follower.match));
    },
  });
  return {
    registry,
    walFsyncSeconds: new Histogram({
      name: 'etcd_disk_wal_fsync_duration_seconds',
      help: 'The latency distributions of fsync called by WAL.',
      buckets: DISK_BUCKETS,
      registers: [registry],
    }),
    applySeconds: new Histogram({
      name: 'etcd_disk_backend_commit_duration_seconds',
      help: 'The latency distributions of commit called by backend (here: applying a batch of committed entries).',
      buckets: DISK_BUCKETS,
      registers: [registry],
    }),
    proposalsFailed: new Counter({ name: 'etcd_server_proposals_failed_total', help: 'The total number of failed proposals seen.', registers: [registry] }),
    leaderChanges: new Counter({ name: 'etcd_server_leader_changes_seen_total', help: 'The number of leader changes seen.', registers: [registry] }),
    peerReceivedFailures: new Counter({
      name: 'etcd_network_peer_received_failures_total',
      help: 'The total number of receive failures from peers.',
      labelNames: ['From'],
      registers: [registry],
    }),
  };
}
