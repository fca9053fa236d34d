import { parseUrlList } from '@k8ts/etcdserver';
import { Command, InvalidArgumentError, Option } from 'commander';

/** A store member's configuration, from etcd's flags (or their ETCD_* environment variables). */
export interface StoreConfig {
  name: string;
  dataDir: string;
  listenClientUrls: string[];
  advertiseClientUrls: string[];
  listenPeerUrls: string[];
  initialAdvertisePeerUrls: string[];
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  initialClusterToken: string;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  initialElectionTickAdvance: boolean;
  snapshotCount: number;
  quotaBackendBytes: number;
  maxRequestBytes: number;
  autoCompactionMode: 'periodic' | 'revision';
  autoCompactionRetention: string;
  listenMetricsUrls: string[];
  logLevel: string;
}

/** etcd's comma-separated URL lists, checked as the store will use them. */
const urls =
  (flag: string) =>
  (value: string): string[] => {
    try {
      return parseUrlList(value, flag);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };
const positiveInt = (flag: string) => (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError(`${flag} takes a positive integer`);
  return parsed;
};

/** A Go-style boolean flag: bare (true), or =true/=false (also 1/0, as Go's strconv.ParseBool). */
const boolean = (flag: string) => (value: string): boolean => {
  if (['true', '1', 't', 'TRUE', 'True', 'T'].includes(value)) return true;
  if (['false', '0', 'f', 'FALSE', 'False', 'F'].includes(value)) return false;
  throw new InvalidArgumentError(`${flag} takes true or false`);
};

/**
 * etcd's member flags with etcd's names, defaults and meanings, so that a script starting etcd
 * starts k8ts-store unchanged. Each also reads its ETCD_* variable, as etcd does.
 */
export function storeCommand(): Command {
  const option = (flags: string, description: string, envName: string): Option =>
    new Option(flags, description).env(envName);
  return new Command('k8ts-store')
    .description('An etcd-compatible store member: Raft-replicated, durable, speaking the etcd v3 gRPC API')
    .addOption(option('--name <name>', 'human-readable name for this member', 'ETCD_NAME').default('default'))
    .addOption(option('--data-dir <path>', 'path to the data directory (default: ${name}.etcd)', 'ETCD_DATA_DIR'))
    .addOption(option('--listen-client-urls <urls>', 'URLs to listen on for client traffic', 'ETCD_LISTEN_CLIENT_URLS').default(['http://localhost:2379'], 'http://localhost:2379').argParser(urls('--listen-client-urls')))
    .addOption(option('--advertise-client-urls <urls>', 'client URLs to advertise to the rest of the cluster', 'ETCD_ADVERTISE_CLIENT_URLS').default(['http://localhost:2379'], 'http://localhost:2379').argParser(urls('--advertise-client-urls')))
    .addOption(option('--listen-peer-urls <urls>', 'URLs to listen on for peer traffic', 'ETCD_LISTEN_PEER_URLS').default(['http://localhost:2380'], 'http://localhost:2380').argParser(urls('--listen-peer-urls')))
    .addOption(option('--initial-advertise-peer-urls <urls>', "this member's peer URLs to advertise to the rest of the cluster", 'ETCD_INITIAL_ADVERTISE_PEER_URLS').default(['http://localhost:2380'], 'http://localhost:2380').argParser(urls('--initial-advertise-peer-urls')))
    .addOption(option('--initial-cluster <members>', 'initial cluster configuration for bootstrapping (name=url,...)', 'ETCD_INITIAL_CLUSTER'))
    .addOption(option('--initial-cluster-state <state>', "'new' when bootstrapping, 'existing' when joining", 'ETCD_INITIAL_CLUSTER_STATE').default('new').choices(['new', 'existing']))
    .addOption(option('--initial-cluster-token <token>', 'initial cluster token for bootstrapping', 'ETCD_INITIAL_CLUSTER_TOKEN').default('etcd-cluster'))
    .addOption(option('--heartbeat-interval <ms>', 'time (in milliseconds) of a heartbeat interval', 'ETCD_HEARTBEAT_INTERVAL').default(100).argParser(positiveInt('--heartbeat-interval')))
    .addOption(option('--election-timeout <ms>', 'time (in milliseconds) for an election to timeout', 'ETCD_ELECTION_TIMEOUT').default(1000).argParser(positiveInt('--election-timeout')))
    .addOption(option('--initial-election-tick-advance [bool]', 'whether to fast-forward initial election ticks on boot for faster election', 'ETCD_INITIAL_ELECTION_TICK_ADVANCE').default(true).argParser(boolean('--initial-election-tick-advance')))
    .addOption(option('--snapshot-count <count>', 'number of committed transactions to trigger a snapshot to disk', 'ETCD_SNAPSHOT_COUNT').default(100_000).argParser(positiveInt('--snapshot-count')))
    .addOption(option('--quota-backend-bytes <bytes>', 'raise alarms when backend size exceeds the given quota (0 = default 2 GiB)', 'ETCD_QUOTA_BACKEND_BYTES').default(0).argParser((value) => (value === '0' ? 0 : positiveInt('--quota-backend-bytes')(value))))
    .addOption(option('--max-request-bytes <bytes>', 'maximum client request size in bytes the server will accept', 'ETCD_MAX_REQUEST_BYTES').default(1_572_864).argParser(positiveInt('--max-request-bytes')))
    .addOption(option('--auto-compaction-mode <mode>', "interpret 'auto-compaction-retention' as hours ('periodic') or revisions ('revision')", 'ETCD_AUTO_COMPACTION_MODE').default('periodic').choices(['periodic', 'revision']))
    .addOption(option('--auto-compaction-retention <value>', 'auto compaction retention (0 = off); periodic takes a duration (1h, 30m) or hours', 'ETCD_AUTO_COMPACTION_RETENTION').default('0'))
    .addOption(option('--listen-metrics-urls <urls>', 'additional URLs to serve /metrics and /health on', 'ETCD_LISTEN_METRICS_URLS').default([], '').argParser(urls('--listen-metrics-urls')))
    .addOption(option('--log-level <level>', 'debug, info, warn, error, panic, or fatal', 'ETCD_LOG_LEVEL').default('info').choices(['debug', 'info', 'warn', 'error', 'panic', 'fatal']));
}

/** The parsed flags as a configuration; throws where etcd refuses a combination of values. */
export function storeConfig(options: Record<string, unknown>): StoreConfig {
  const name = String(options['name']);
  const heartbeatIntervalMs = Number(options['heartbeatInterval']);
  const electionTimeoutMs = Number(options['electionTimeout']);
  if (electionTimeoutMs < 5 * heartbeatIntervalMs) {
    // etcd's own rule: fewer than five heartbeats per election timeout invites needless elections.
    throw new InvalidArgumentError(
      `--election-timeout[${electionTimeoutMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatIntervalMs}ms]`,
    );
  }
  const peerUrls = options['initialAdvertisePeerUrls'] as string[];
  return {
    name,
    dataDir: typeof options['dataDir'] === 'string' ? options['dataDir'] : `${name}.etcd`,
    listenClientUrls: options['listenClientUrls'] as string[],
    advertiseClientUrls: options['advertiseClientUrls'] as string[],
    listenPeerUrls: options['listenPeerUrls'] as string[],
    initialAdvertisePeerUrls: peerUrls,
    initialCluster: typeof options['initialCluster'] === 'string' ? options['initialCluster'] : peerUrls.map((url) => `${name}=${url}`).join(','),
    initialClusterState: options['initialClusterState'] as 'new' | 'existing',
    initialClusterToken: String(options['initialClusterToken']),
    heartbeatIntervalMs,
    electionTimeoutMs,
    initialElectionTickAdvance: options['initialElectionTickAdvance'] !== false,
    snapshotCount: Number(options['snapshotCount']),
    quotaBackendBytes: Number(options['quotaBackendBytes']) || 2 * 1024 * 1024 * 1024,
    maxRequestBytes: Number(options['maxRequestBytes']),
    autoCompactionMode: options['autoCompactionMode'] as 'periodic' | 'revision',
    autoCompactionRetention: String(options['autoCompactionRetention']),
    listenMetricsUrls: options['listenMetricsUrls'] as string[],
    logLevel: String(options['logLevel']),
  };
}

/** Parses `argv` into a configuration, throwing (never exiting) on a bad flag: for tests. */
export function parseStoreFlags(argv: readonly string[]): StoreConfig {
  const program = storeCommand().exitOverride().configureOutput({ outputError: () => undefined });
  program.parse([...argv], { from: 'user' });
  return storeConfig(program.opts<Record<string, unknown>>());
}
