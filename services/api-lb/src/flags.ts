import type { Backend } from '@k8ts/l4proxy';
import { DEFAULT_FAILURE_THRESHOLD, DEFAULT_HEALTH_INTERVAL_MS, DEFAULT_HEALTH_PATH, DEFAULT_SUCCESS_THRESHOLD } from '@k8ts/l4proxy';
import { durationFlag, numberFlag, portFlag, splitList } from '@k8ts/service';
import { Command, Option } from 'commander';

export interface ApiLbFlags {
  bindAddress: string;
  port: number;
  backends: Backend[];
  healthPath: string;
  healthIntervalMs: number;
  /** Undefined: the interval, as HAProxy's check timeout falls back to `inter`. */
  healthTimeoutMs?: number;
  healthFailureThreshold: number;
  healthSuccessThreshold: number;
  healthzPort: number;
  maxConnections: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  logLevel: string;
}

/** kube-apiserver's secure port, where kubeconfigs of HA clusters point at the load balancer. */
export const DEFAULT_PORT = 6443;
/** HAProxy's customary stats/metrics port. */
export const DEFAULT_HEALTHZ_PORT = 8404;

/** `host:port` or `[ipv6]:port`, as the API servers' --bind-address and --port make them. */
export function parseBackend(text: string): Backend {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(text.trim());
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`--backends takes host:port items (an IPv6 host in brackets), got "${text}"`);
  }
  return { host, port };
}

export function parseBackends(text: string): Backend[] {
  const backends = splitList(text).map(parseBackend);
  if (backends.length === 0) throw new Error('--backends needs at least one host:port');
  return backends;
}

const positiveDuration = (flag: string): ((value: string) => number) => {
  const parse = durationFlag(flag);
  return (value) => {
    const ms = parse(value);
    if (ms <= 0) throw new Error(`${flag} must be longer than 0, got ${value}`);
    return ms;
  };
};

/** The flags of k8ts-api-lb, each with a K8TS_API_LB_* (or the components' K8TS_*) variable. */
export function apiLbCommand(): Command {
  return new Command('k8ts-api-lb')
    .description(
      "The k8ts API load balancer: a TCP proxy in front of the API servers' HTTP addresses that health-checks each (HTTP GET, HAProxy's rise/fall) and spreads connections round robin over the healthy ones.",
    )
    .addOption(new Option('--bind-address <ip>', 'address to listen on, for clients and for /healthz and /metrics').default('0.0.0.0').env('K8TS_BIND_ADDRESS'))
    .addOption(new Option('--port <port>', 'port clients (kubectl) connect to').default(DEFAULT_PORT).argParser(portFlag('--port')).env('K8TS_PORT'))
    .addOption(new Option('--backends <addresses>', "API servers' HTTP addresses (host:port), comma-separated").argParser(parseBackends).env('K8TS_API_LB_BACKENDS').makeOptionMandatory())
    .addOption(new Option('--health-path <path>', 'the path each health check GETs').default(DEFAULT_HEALTH_PATH).argParser(healthPath).env('K8TS_API_LB_HEALTH_PATH'))
    .addOption(new Option('--health-interval <duration>', 'time from the end of a check of a backend to its next').default(DEFAULT_HEALTH_INTERVAL_MS, '2s').argParser(positiveDuration('--health-interval')).env('K8TS_API_LB_HEALTH_INTERVAL'))
    .addOption(new Option('--health-timeout <duration>', 'how long a check may take (default: the interval)').argParser(positiveDuration('--health-timeout')).env('K8TS_API_LB_HEALTH_TIMEOUT'))
    .addOption(new Option('--health-failure-threshold <n>', 'consecutive failed checks that take a backend out (HAProxy fall)').default(DEFAULT_FAILURE_THRESHOLD).argParser(numberFlag('--health-failure-threshold', { min: 1, integer: true })).env('K8TS_API_LB_HEALTH_FAILURE_THRESHOLD'))
    .addOption(new Option('--health-success-threshold <n>', 'consecutive passed checks that bring a backend back (HAProxy rise)').default(DEFAULT_SUCCESS_THRESHOLD).argParser(numberFlag('--health-success-threshold', { min: 1, integer: true })).env('K8TS_API_LB_HEALTH_SUCCESS_THRESHOLD'))
    .addOption(new Option('--healthz-port <port>', 'plain HTTP port of /healthz and /metrics (0 turns it off)').default(DEFAULT_HEALTHZ_PORT).argParser(portFlag('--healthz-port')).env('K8TS_API_LB_HEALTHZ_PORT'))
    .addOption(new Option('--max-connections <n>', 'client connections open at once; more are closed at once').default(10_000).argParser(numberFlag('--max-connections', { min: 1, integer: true })).env('K8TS_API_LB_MAX_CONNECTIONS'))
    .addOption(new Option('--connect-timeout <duration>', 'how long a dial of a backend may take before the next is tried').default(5_000, '5s').argParser(positiveDuration('--connect-timeout')).env('K8TS_API_LB_CONNECT_TIMEOUT'))
    .addOption(new Option('--idle-timeout <duration>', 'close a connection with no bytes either way for this long (0: never; watches idle for minutes)').default(0, '0').argParser(durationFlag('--idle-timeout')).env('K8TS_API_LB_IDLE_TIMEOUT'))
    .addOption(new Option('--log-level <level>', 'pino log level').default('info').env('K8TS_LOG_LEVEL'));
}

function healthPath(value: string): string {
  if (!value.startsWith('/')) throw new Error(`--health-path must start with /, got "${value}"`);
  return value;
}

/** commander's option names → the flags' meaning (durations in ms). */
export function apiLbFlags(options: Record<string, unknown>): ApiLbFlags {
  return {
    bindAddress: String(options['bindAddress']),
    port: Number(options['port']),
    backends: options['backends'] as Backend[],
    healthPath: String(options['healthPath']),
    healthIntervalMs: Number(options['healthInterval']),
    ...(options['healthTimeout'] === undefined ? {} : { healthTimeoutMs: Number(options['healthTimeout']) }),
    healthFailureThreshold: Number(options['healthFailureThreshold']),
    healthSuccessThreshold: Number(options['healthSuccessThreshold']),
    healthzPort: Number(options['healthzPort']),
    maxConnections: Number(options['maxConnections']),
    connectTimeoutMs: Number(options['connectTimeout']),
    idleTimeoutMs: Number(options['idleTimeout']),
    logLevel: String(options['logLevel']),
  };
}
