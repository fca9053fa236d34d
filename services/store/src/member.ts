// One store member — storage, Raft, the etcd v3 services and its listeners — as k8ts-store runs it.
// main.ts wires it into a process; test/durability runs three in one process over PowerLossFs.
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import {
  EtcdServer,
  grpcJsAcceptor,
  listenClientUrl,
  RAFT_STREAM_PREFACE,
  MvccKeyValueStore,
  clusterIdOf,
  clusterService,
  createStoreMetrics,
  kvService,
  leaseService,
  maintenanceService,
  formatId,
  memberIdOf,
  parseInitialCluster,
  watchService,
  type Member,
} from '@k8ts/etcdserver';
import { GrpcServer, loadEtcdApi } from '@k8ts/proto';
import { bootstrapState, joiningState, type PersistedState } from '@k8ts/raft';
import { listen, writeMetrics, type MetricsSource } from '@k8ts/service';
import { RaftStorage, loneWriterGate, type StorageFs } from '@k8ts/storage';
import { pino, type Logger } from 'pino';

import type { StoreConfig } from './flags.js';

/** etcd accepts a request this much over --max-request-bytes at the gRPC layer, then checks it. */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

export interface StoreMemberOptions {
  /** The auto-compaction retention, already parsed from the config (parseRetention). */
  readonly retention: number;
  /** Default: storeLogger(config). */
  readonly logger?: Logger;
  /** This member was removed from the cluster. */
  readonly onRemoved: () => void;
  /** Raft failed (e.g. a write to storage did): the member cannot go on. */
  readonly onFatal: (error: unknown) => void;
  /** The file system under the data dir: node:fs unless a test passes a twin. */
  readonly fs?: StorageFs;
  /**
   * WAL segment size (default 64 MiB, etcd's). Segments are preallocated to it, so a test over an
   * in-memory twin, which copies a file on every sync, passes a small one.
   */
  readonly walSegmentSizeBytes?: number;
}

export interface StoreMember {
  readonly server: EtcdServer;
  /** Closes the client listeners, stops Raft (a leader hands over first), closes the rest and the storage. */
  stop(): Promise<void>;
  /**
   * Stops as a power cut would: every listener closed at once, Raft stopped where it stands (no
   * leader hand-over), the storage left as it is (its file system is gone). For tests that cut power.
   */
  halt(): Promise<void>;
}

/** The member's logger, at --log-level (etcd's panic is pino's fatal), every line naming the member. */
export function storeLogger(config: StoreConfig): Logger {
  return pino({ level: config.logLevel === 'panic' ? 'fatal' : config.logLevel, base: { component: 'store', member: config.name } });
}

/** Opens the data dir, starts Raft and serves the client and peer URLs of `config`. */
export async function startStoreMember(config: StoreConfig, options: StoreMemberOptions): Promise<StoreMember> {
  const logger = options.logger ?? storeLogger(config);
  const member = describeMembers(config);
  const metrics = createStoreMetrics(() => server);
  const storage = await RaftStorage.open(config.dataDir, {
    logger: logger.child({ component: 'storage' }),
    onSync: (durationMs) => metrics.walFsyncSeconds.observe(durationMs / 1000),
    // A lone writer's fdatasyncs skip the thread pool's two wake-ups (wal/sync_thread_gate.ts).
    syncThread: loneWriterGate(),
    ...(options.fs === undefined ? {} : { fs: options.fs }),
    ...(options.walSegmentSizeBytes === undefined ? {} : { segmentSizeBytes: options.walSegmentSizeBytes }),
  });
  const persisted = await initialState(storage, config, member.members, logger);
  const electionTicks = Math.max(2, Math.round(config.electionTimeoutMs / config.heartbeatIntervalMs));
  // etcd's minimum lease TTL: 1.5 election timeouts, rounded up to whole seconds.
  const minLeaseTtlSeconds = Math.ceil((1.5 * electionTicks * config.heartbeatIntervalMs) / 1000);
  const snapshot = persisted.snapshot;
  const server: EtcdServer = new EtcdServer({
    memberId: member.self.id,
    clusterId: member.clusterId,
    name: config.name,
    clientURLs: config.advertiseClientUrls,
    tickMs: config.heartbeatIntervalMs,
    electionTicks,
    initialElectionTickAdvance: config.initialElectionTickAdvance,
    snapshotCount: config.snapshotCount,
    maxRequestBytes: config.maxRequestBytes,
    quotaBackendBytes: config.quotaBackendBytes,
    storage,
    persisted,
    kv: MvccKeyValueStore.create(minLeaseTtlSeconds),
    restoreKv: (bytes) => MvccKeyValueStore.restore(bytes, minLeaseTtlSeconds),
    initialPeers: new Map(member.members.map((m) => [m.id, m.peerURLs[0] ?? ''])),
    metrics,
    logger,
    autoCompaction: { mode: config.autoCompactionMode, retention: options.retention },
    onRemoved: options.onRemoved,
    onFatal: options.onFatal,
  });
  if (snapshot) server.stateMachine.restore(snapshot);

  const peerServer = new grpc.Server({
    'grpc.max_receive_message_length': 1024 * 1024 * 1024,
  });
  server.start(peerServer);
  // Peer ports answer gRPC and Raft streams; the same listener turns Nagle off for them.
  const peerListeners = await Promise.all(
    config.listenPeerUrls.map((url) =>
      listenClientUrl(url, grpcJsAcceptor(peerServer), (_request, response) => response.writeHead(404).end(), {
        preface: RAFT_STREAM_PREFACE,
        accept: (socket) => server.acceptPeerStream(socket),
      }),
    ),
  );

  const clientServer = new GrpcServer({ maxReceiveMessageLength: config.maxRequestBytes + GRPC_OVERHEAD_BYTES });
  const http = httpHandler(server, metrics.registry, logger);
  const api = loadEtcdApi();
  clientServer.addService(api.KV.service, kvService(server));
  clientServer.addService(api.Watch.service, watchService(server));
  clientServer.addService(api.Lease.service, leaseService(server));
  clientServer.addService(api.Cluster.service, clusterService(server, config.initialClusterToken));
  clientServer.addService(api.Maintenance.service, maintenanceService(server));
  // Client URLs serve gRPC and, like etcd's, /health and /metrics on the same port.
  const clientListeners = await Promise.all(config.listenClientUrls.map((url) => listenClientUrl(url, { accept: (socket) => clientServer.acceptConnection(socket) }, http)));
  const httpServers = await Promise.all(config.listenMetricsUrls.map((url) => serveHttp(url, http)));
  logger.info({ id: formatId(member.self.id), cluster: formatId(member.clusterId), client: config.listenClientUrls, peer: config.listenPeerUrls }, 'store member serving');

  return {
    server,
    stop: async () => {
      for (const listener of clientListeners) listener.close();
      clientServer.close();
      await server.stop();
      for (const listener of peerListeners) listener.close();
      peerServer.forceShutdown();
      for (const http of httpServers) http.close();
      await storage.close();
    },
    halt: async () => {
      for (const listener of [...clientListeners, ...peerListeners]) listener.close();
      clientServer.close();
      peerServer.forceShutdown();
      for (const http of httpServers) http.close();
      await server.node.stop();
      await server.stop(); // timers and peer links; the node no longer runs, so nothing is handed over
    },
  };
}

/** The members --initial-cluster names, with ids derived as every member derives them. */
function describeMembers(config: StoreConfig): { self: Member; members: Member[]; clusterId: number } {
  const members = parseInitialCluster(config.initialCluster).map(
    (initial): Member => ({ id: memberIdOf(initial.peerURLs, config.initialClusterToken), name: initial.name, peerURLs: initial.peerURLs, clientURLs: [], isLearner: false }),
  );
  const self = members.find((m) => m.name === config.name);
  if (self === undefined) throw new Error(`couldn't find local name "${config.name}" in the initial cluster configuration`);
  const advertised = [...config.initialAdvertisePeerUrls].sort().join(',');
  if ([...self.peerURLs].sort().join(',') !== advertised) {
    throw new Error(`--initial-cluster has ${config.name}=${self.peerURLs.join(',')} but --initial-advertise-peer-urls is ${advertised}`);
  }
  return { self, members, clusterId: clusterIdOf([], config.initialClusterToken) };
}

/** The persisted Raft state; on a fresh data dir, the bootstrap (new cluster) or an empty log (joining). */
async function initialState(storage: RaftStorage, config: StoreConfig, members: Member[], logger: Logger): Promise<PersistedState> {
  const loaded = storage.load();
  const fresh = loaded.hardState.term === 0 && loaded.entries.length === 0 && loaded.snapshot === undefined;
  if (!fresh) {
    logger.info({ term: loaded.hardState.term, commit: loaded.hardState.commit, entries: loaded.entries.length, snapshot: loaded.snapshot?.meta.index ?? 0 }, 'restarting from the data dir');
    return loaded;
  }
  if (config.initialClusterState === 'existing') return joiningState();
  const state = bootstrapState(
    members.map((m) => m.id),
    JSON.stringify({ members }),
  );
  await storage.save({ hardState: state.hardState, entries: state.entries });
  return state;
}

/** /health (etcd's JSON) and /metrics (Prometheus). */
function httpHandler(server: EtcdServer, registry: MetricsSource, logger: Logger): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    if (request.url === '/health' || request.url?.startsWith('/health?')) {
      const healthy = server.leader() !== 0;
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ health: String(healthy), reason: healthy ? '' : 'RAFT NO LEADER' }));
    } else if (request.url === '/metrics') {
      writeMetrics(response, registry, logger);
    } else {
      response.writeHead(404).end();
    }
  };
}

/** An extra HTTP listener for --listen-metrics-urls. */
async function serveHttp(url: string, handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<HttpServer> {
  const { hostname, port } = new URL(url);
  const http = createServer(handler);
  await listen(http, Number(port), hostname);
  return http;
}
