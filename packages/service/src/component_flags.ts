import { Option, type Command } from 'commander';
import { portFlag } from './flags.js';

/** The flags every control-plane component (scheduler, controller manager) takes, as kube's do. */
export interface ComponentFlags {
  /** API servers' gRPC addresses, comma-separated (splitList reads them). */
  readonly master: string;
  readonly bindAddress: string;
  readonly port: number;
  readonly logLevel: string;
}

/**
 * --master, --bind-address, --port (of /healthz and /metrics; kube's insecure port numbers by
 * default: 10251 scheduler, 10252 controller manager) and --log-level, with their K8TS_* variables.
 */
export function addComponentFlags(program: Command, defaultPort: number): Command {
  return program
    .addOption(new Option('--master <addresses>', "API servers' gRPC addresses (host:port), comma-separated").env('K8TS_APISERVERS').makeOptionMandatory())
    .addOption(new Option('--bind-address <ip>', 'address of /healthz and /metrics').default('0.0.0.0').env('K8TS_BIND_ADDRESS'))
    .addOption(new Option('--port <port>', 'plain HTTP port of /healthz and /metrics (0 turns it off)').default(defaultPort).argParser(portFlag('--port')).env('K8TS_PORT'))
    .addOption(new Option('--log-level <level>', 'pino log level').default('info').env('K8TS_LOG_LEVEL'));
}
