import { isIPv4 } from 'node:net';
import { hostname } from 'node:os';
import { DEFAULT_MAX_PODS, parseByteSize, parseEvictionHard, parseNodeLabels, parseReservation, parseTaints } from '@k8ts/kubelet';
import { durationFlag, numberFlag, portFlag } from '@k8ts/service';
import { Option, Command } from 'commander';

export interface NodeAgentFlags {
  master: string;
  hostnameOverride: string;
  nodeIp?: string;
  nodeLabels: Record<string, string>;
  registerWithTaints: ReturnType<typeof parseTaints>;
  maxPods: number;
  nodeCapacity: ReturnType<typeof parseReservation>;
  systemReserved: ReturnType<typeof parseReservation>;
  kubeReserved: ReturnType<typeof parseReservation>;
  evictionHard: ReturnType<typeof parseEvictionHard>;
  rootDir: string;
  nodeStatusUpdateFrequency: number;
  nodeStatusReportFrequency: number;
  nodeLeaseDurationSeconds: number;
  containerLogMaxSize: number;
  containerLogMaxFiles: number;
  runtime: 'process' | 'simulated';
  nodes: number;
  simulatedNodePrefix: string;
  simulatedStartDelay: number;
  simulatedReadyDelay: number;
  simulatedCompleteAfter: number;
  simulatedDeleteDelay: number;
  simulatedJitter: number;
  simulatedFailureRate: number;
  simulatedSeed: number;
  natsUrl?: string;
  imageCatalog?: string;
  podNetwork: 'auto' | 'namespaced' | 'host';
  podBridge?: string;
  clusterDns: string[];
  clusterDomain: string;
  resolvConf: string;
  clusterDnsServer: boolean;
  kubeProxy: boolean;
  healthzBindAddress: string;
  healthzPort: number;
  address: string;
  port: number;
  kubeApiQps: number;
  kubeApiBurst: number;
  eventQps: number;
  eventBurst: number;
  logLevel: string;
}

/** Where pods' data and logs live when --root-dir is not given (upstream's is /var/lib/kubelet; k8ts keeps its own). */
export const DEFAULT_ROOT_DIR = '/var/lib/k8ts-kubelet';

/** A commander argParser from a parse function, naming the flag in the error. */
function parsed<T>(flag: string, parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (error) {
      throw new Error(`${flag}: ${(error as Error).message}`);
    }
  };
}

const byteSize = (flag: string): ((text: string) => number) => parsed(flag, parseByteSize);

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function parseIpList(text: string): string[] {
  const ips = text.split(',').map((ip) => ip.trim()).filter((ip) => ip !== '');
  for (const ip of ips) if (!isIPv4(ip)) throw new Error(`"${ip}" is not an IPv4 address`);
  return ips;
}

function clusterDomain(text: string): string {
  const domain = text.trim().toLowerCase().replace(/\.$/, '');
  if (!DNS_SUBDOMAIN.test(domain)) throw new Error(`"${text}" is not a DNS domain`);
  return domain;
}

/** --hostname-override: lower-cased, as upstream's kubelet does, and a valid Node name. */
function nodeName(text: string): string {
  const name = text.trim().toLowerCase();
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) throw new Error(`--hostname-override: "${text}" is not a valid node name (a DNS-1123 subdomain)`);
  return name;
}

/** The flags as the kubelet's, where they apply; k8ts' own are marked so. */
export function command(): Command {
  return new Command('k8ts-node-agent')
    .description('The k8ts node agent: a kubelet that runs pods as processes (or simulates N nodes). Flags follow the kubelet.')
    .addOption(new Option('--master <addresses>', "API servers' gRPC addresses (host:port), comma-separated").env('K8TS_APISERVERS').makeOptionMandatory())
    .addOption(new Option('--hostname-override <name>', "the Node's name (default: the hostname)").default(nodeName(hostname()), 'the hostname').argParser(nodeName).env('K8TS_NODE_NAME'))
    .addOption(new Option('--node-ip <ip>', "the node's InternalIP (default: the first non-loopback IPv4)").env('K8TS_NODE_IP'))
    .addOption(new Option('--node-labels <labels>', 'labels to add when registering: key=value,...').default({}, '').argParser(parsed('--node-labels', parseNodeLabels)))
    .addOption(new Option('--register-with-taints <taints>', 'taints to register the Node with: key=value:Effect,...').default([], '').argParser(parsed('--register-with-taints', parseTaints)))
    .addOption(new Option('--max-pods <n>', 'pods this node may run').default(DEFAULT_MAX_PODS).argParser(numberFlag('--max-pods', { min: 1, integer: true })))
    .addOption(new Option('--node-capacity <resources>', "(k8ts) capacity to claim instead of the host's: cpu=4,memory=8Gi,ephemeral-storage=100Gi").default({}, '').argParser(parsed('--node-capacity', parseReservation)))
    .addOption(new Option('--system-reserved <resources>', 'reserved for the system: cpu=100m,memory=100Mi,ephemeral-storage=1Gi,pid=1000').default({}, '').argParser(parsed('--system-reserved', parseReservation)))
    .addOption(new Option('--kube-reserved <resources>', 'reserved for Kubernetes daemons, same syntax').default({}, '').argParser(parsed('--kube-reserved', parseReservation)))
    .addOption(new Option('--eviction-hard <thresholds>', 'hard eviction thresholds (they reduce allocatable)').default(parseEvictionHard('memory.available<100Mi,nodefs.available<10%'), 'memory.available<100Mi,nodefs.available<10%').argParser(parsed('--eviction-hard', parseEvictionHard)))
    .addOption(new Option('--root-dir <dir>', "pods' data and logs, and the runtime's state").default(DEFAULT_ROOT_DIR).env('K8TS_ROOT_DIR'))
    .addOption(new Option('--node-status-update-frequency <duration>', 'how often the node status is computed (written when it changed)').default(10_000, '10s').argParser(durationFlag('--node-status-update-frequency')))
    .addOption(new Option('--node-status-report-frequency <duration>', 'the status is written at least this often').default(300_000, '5m').argParser(durationFlag('--node-status-report-frequency')))
    .addOption(new Option('--node-lease-duration-seconds <n>', "the Lease's duration; renewed every quarter of it").default(40).argParser(numberFlag('--node-lease-duration-seconds', { min: 1, integer: true })))
    .addOption(new Option('--container-log-max-size <size>', "a container's log file is rotated at this size").default(10 * 1024 * 1024, '10Mi').argParser(byteSize('--container-log-max-size')))
    .addOption(new Option('--container-log-max-files <n>', 'log files kept per container (at least 2)').default(5).argParser(numberFlag('--container-log-max-files', { min: 2, integer: true })))
    .addOption(new Option('--runtime <kind>', 'process: containers are processes; simulated: N nodes with no processes (as kwok)').choices(['process', 'simulated']).default('process'))
    .addOption(new Option('--nodes <n>', '(k8ts) with --runtime simulated: how many nodes this process is').default(1).argParser(numberFlag('--nodes', { min: 1, integer: true })))
    .addOption(new Option('--simulated-node-prefix <prefix>', '(k8ts) simulated nodes are named <prefix>-<index>').default('sim'))
    .addOption(new Option('--simulated-start-delay <duration>', '(k8ts) simulated pods: bound → containers running').default(0, '0s').argParser(durationFlag('--simulated-start-delay')))
    .addOption(new Option('--simulated-ready-delay <duration>', '(k8ts) simulated pods: running → Ready').default(0, '0s').argParser(durationFlag('--simulated-ready-delay')))
    .addOption(new Option('--simulated-complete-after <duration>', '(k8ts) simulated pods owned by a Job: running → Succeeded').default(1000, '1s').argParser(durationFlag('--simulated-complete-after')))
    .addOption(new Option('--simulated-delete-delay <duration>', '(k8ts) simulated pods: deletion → final delete').default(0, '0s').argParser(durationFlag('--simulated-delete-delay')))
    .addOption(new Option('--simulated-jitter <duration>', '(k8ts) up to this much random extra on each simulated delay').default(100, '100ms').argParser(durationFlag('--simulated-jitter')))
    .addOption(new Option('--simulated-failure-rate <share>', '(k8ts) share of simulated pods whose containers fail').default(0).argParser(numberFlag('--simulated-failure-rate', { min: 0, max: 1 })))
    .addOption(new Option('--simulated-seed <n>', '(k8ts) seed of the simulated jitter and failures').default(1).argParser(numberFlag('--simulated-seed', { integer: true })))
    .addOption(new Option('--nats-url <url>', 'NATS server: logs, exec, attach and port-forward for this node').env('K8TS_NATS_URL'))
    .addOption(new Option('--image-catalog <file>', 'extra image catalog entries (JSON), added to or overriding the built-in ones'))
    .addOption(new Option('--pod-network <mode>', '(k8ts) auto: namespaced with the privileges, host otherwise').choices(['auto', 'namespaced', 'host']).default('auto'))
    .addOption(new Option('--pod-bridge <name>', "(k8ts) the pod bridge's name (agents sharing a network namespace need different ones)"))
    .addOption(new Option('--cluster-dns <ips>', "the cluster DNS server's address(es) in pods' resolv.conf, comma-separated").default(['10.96.0.10'], '10.96.0.10').argParser(parsed('--cluster-dns', parseIpList)))
    .addOption(new Option('--cluster-domain <domain>', 'the cluster\'s DNS domain: pods search <ns>.svc.<domain>').default('cluster.local').argParser(parsed('--cluster-domain', clusterDomain)))
    .addOption(new Option('--resolv-conf <file>', "the node's resolv.conf: the base of pods' (dnsPolicy Default) and where cluster DNS forwards other names ('' for none)").default('/etc/resolv.conf'))
    .addOption(new Option('--no-cluster-dns-server', '(k8ts) do not answer DNS on the --cluster-dns address (another server does)'))
    .addOption(new Option('--no-kube-proxy', '(k8ts) do not proxy Services on this node (another proxy does)'))
    .addOption(new Option('--healthz-bind-address <ip>', 'address of /healthz').default('127.0.0.1'))
    .addOption(new Option('--healthz-port <port>', 'port of /healthz (0 turns it off)').default(10248).argParser(portFlag('--healthz-port')))
    .addOption(new Option('--address <ip>', "address of the kubelet's server (/healthz, /metrics)").default('0.0.0.0'))
    .addOption(new Option('--port <port>', "port of the kubelet's server, plain HTTP (0 turns it off)").default(10250).argParser(portFlag('--port')))
    .addOption(new Option('--kube-api-qps <qps>', 'requests per second to the API servers').default(50).argParser(numberFlag('--kube-api-qps', { min: 0 })))
    .addOption(new Option('--kube-api-burst <n>', 'burst above --kube-api-qps').default(100).argParser(numberFlag('--kube-api-burst', { min: 1, integer: true })))
    .addOption(new Option('--event-qps <qps>', 'events sent per second at most (their own client, beside --kube-api-qps)').default(50).argParser(numberFlag('--event-qps', { min: 0 })))
    .addOption(new Option('--event-burst <n>', 'burst above --event-qps').default(100).argParser(numberFlag('--event-burst', { min: 1, integer: true })))
    .addOption(new Option('--log-level <level>', 'pino log level').default('info').env('K8TS_LOG_LEVEL'));
}
