import { readFileSync } from 'node:fs';
import { realClock } from '@k8ts/base';
import { ApiClient, ApiEventRecorder, RateLimitingQueue, SharedInformerFactory, type EventRecorder } from '@k8ts/client';
import {
  CONTROLLERS,
  DEFAULT_CONTROLLER_MANAGER_OPTIONS as DEFAULTS,
  enabledControllers,
  type ControllerContext,
  type ControllerManagerOptions,
} from '@k8ts/controllers';
import {
  addComponentFlags,
  addLeaderElectionFlags,
  booleanFlag,
  durationFlag,
  exitWithUsageError,
  isLeading,
  leaderIdentity,
  numberFlag,
  onShutdown,
  parseFlagsOrExit,
  runLeaderElected,
  runMain,
  serveHealth,
  splitList,
  type ComponentFlags,
  type LeaderElectionFlags,
} from '@k8ts/service';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { ControllerManagerMetrics } from './metrics.js';

interface Flags extends LeaderElectionFlags, ComponentFlags {
  controllers: string;
  kubeApiQps: number;
  kubeApiBurst: number;
  nodeMonitorPeriod: number;
  nodeMonitorGracePeriod: number;
  nodeStartupGracePeriod: number;
  nodeEvictionRate: number;
  secondaryNodeEvictionRate: number;
  unhealthyZoneThreshold: number;
  largeClusterSizeThreshold: number;
  terminatedPodGcThreshold: number;
  allocateNodeCidrs: boolean;
  clusterCidr: string;
  nodeCidrMaskSize: number;
  rootCaFile?: string;
  [concurrencyFlag: string]: unknown;
}

/** `--concurrent-gc-syncs` → the option key commander gives it (`concurrentGcSyncs`). */
const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

function command(): Command {
  const program = addComponentFlags(
    new Command('k8ts-controller-manager').description(
      'The k8ts controller manager: the reconcile loops that keep the cluster in its desired state. Flags follow kube-controller-manager.',
    ),
    10252,
  )
    .addOption(new Option('--controllers <list>', `controllers to run: * (all on by default), name, -name; known: ${CONTROLLERS.map((c) => c.name).join(', ')}`).default('*'))
    .addOption(new Option('--kube-api-qps <qps>', 'requests per second to the API servers').default(20).argParser(numberFlag('--kube-api-qps', { min: 0 })))
    .addOption(new Option('--kube-api-burst <n>', 'burst above --kube-api-qps').default(30).argParser(numberFlag('--kube-api-burst', { min: 1, integer: true })))
    .addOption(new Option('--node-monitor-period <duration>', 'how often node health is checked').default(DEFAULTS.nodeMonitorPeriodMs, '5s').argParser(durationFlag('--node-monitor-period')))
    .addOption(new Option('--node-monitor-grace-period <duration>', 'a node unheard for this long is Unknown').default(DEFAULTS.nodeMonitorGracePeriodMs, '50s').argParser(durationFlag('--node-monitor-grace-period')))
    .addOption(new Option('--node-startup-grace-period <duration>', 'a new node may be unheard for this long').default(DEFAULTS.nodeStartupGracePeriodMs, '1m').argParser(durationFlag('--node-startup-grace-period')))
    .addOption(new Option('--node-eviction-rate <rate>', 'nodes per second whose pods are evicted in a healthy zone').default(DEFAULTS.nodeEvictionRate).argParser(numberFlag('--node-eviction-rate', { min: 0 })))
    .addOption(new Option('--secondary-node-eviction-rate <rate>', 'the same in an unhealthy zone of a large cluster').default(DEFAULTS.secondaryNodeEvictionRate).argParser(numberFlag('--secondary-node-eviction-rate', { min: 0 })))
    .addOption(new Option('--unhealthy-zone-threshold <share>', 'share of not-ready nodes that makes a zone unhealthy').default(DEFAULTS.unhealthyZoneThreshold).argParser(numberFlag('--unhealthy-zone-threshold', { min: 0, max: 1 })))
    .addOption(new Option('--large-cluster-size-threshold <n>', 'zones of more nodes count as large').default(DEFAULTS.largeClusterSizeThreshold).argParser(numberFlag('--large-cluster-size-threshold', { min: 0, integer: true })))
    .addOption(new Option('--terminated-pod-gc-threshold <n>', 'terminated pods kept before the oldest are deleted (0: off)').default(DEFAULTS.terminatedPodGcThreshold).argParser(numberFlag('--terminated-pod-gc-threshold', { min: 0, integer: true })))
    .addOption(new Option('--allocate-node-cidrs [bool]', 'give nodes podCIDRs from --cluster-cidr').default(DEFAULTS.allocateNodeCidrs).argParser(booleanFlag))
    .addOption(new Option('--cluster-cidr <cidr>', 'the pods\' address range (comma-separated for dual stack)').default(DEFAULTS.clusterCidr))
    .addOption(new Option('--root-ca-file <file>', "the cluster's CA bundle (PEM), published as ca.crt of every namespace's kube-root-ca.crt"))
    .addOption(new Option('--node-cidr-mask-size <bits>', 'size of each node\'s podCIDR').default(DEFAULTS.nodeCidrMaskSize).argParser(numberFlag('--node-cidr-mask-size', { min: 1, max: 128, integer: true })));
  for (const controller of CONTROLLERS) {
    if (controller.concurrencyFlag === undefined) continue;
    program.addOption(
      new Option(`--${controller.concurrencyFlag} <n>`, `workers of the ${controller.name} controller`)
        .default(controller.defaultWorkers)
        .argParser(numberFlag(`--${controller.concurrencyFlag}`, { min: 1, integer: true })),
    );
  }
  return addLeaderElectionFlags(program, 'kube-controller-manager');
}

function optionsFrom(flags: Flags, rootCaBundle: string | undefined): ControllerManagerOptions {
  const concurrentSyncs: Record<string, number> = {};
  for (const controller of CONTROLLERS) {
    const value = controller.concurrencyFlag === undefined ? undefined : flags[camel(controller.concurrencyFlag)];
    concurrentSyncs[controller.name] = typeof value === 'number' ? value : controller.defaultWorkers;
  }
  return {
    concurrentSyncs,
    nodeMonitorPeriodMs: flags.nodeMonitorPeriod,
    nodeMonitorGracePeriodMs: flags.nodeMonitorGracePeriod,
    nodeStartupGracePeriodMs: flags.nodeStartupGracePeriod,
    nodeEvictionRate: flags.nodeEvictionRate,
    secondaryNodeEvictionRate: flags.secondaryNodeEvictionRate,
    unhealthyZoneThreshold: flags.unhealthyZoneThreshold,
    largeClusterSizeThreshold: flags.largeClusterSizeThreshold,
    terminatedPodGcThreshold: flags.terminatedPodGcThreshold,
    allocateNodeCidrs: flags.allocateNodeCidrs,
    clusterCidr: flags.clusterCidr,
    nodeCidrMaskSize: flags.nodeCidrMaskSize,
    ...(rootCaBundle !== undefined ? { rootCaBundle } : {}),
  };
}

async function main(): Promise<void> {
  const flags = parseFlagsOrExit<Flags>(command(), process.argv.slice(2));
  let enabled;
  try {
    enabled = enabledControllers(flags.controllers.split(','), CONTROLLERS);
  } catch (error) {
    exitWithUsageError('k8ts-controller-manager', new Error(`--controllers: ${(error as Error).message}`));
  }
  let rootCaBundle: string | undefined;
  try {
    rootCaBundle = flags.rootCaFile === undefined ? undefined : readFileSync(flags.rootCaFile, 'utf8');
  } catch (error) {
    exitWithUsageError('k8ts-controller-manager', new Error(`--root-ca-file: ${(error as Error).message}`));
  }
  const identity = leaderIdentity();
  const logger = pino({ level: flags.logLevel, base: { component: 'controller-manager', identity } });
  const addresses = splitList(flags.master);
  const client = new ApiClient({ addresses, logger, fieldManager: 'kube-controller-manager', qps: flags.kubeApiQps, burst: flags.kubeApiBurst });
  const metrics = new ControllerManagerMetrics();
  const stopping = new AbortController();
  let elector: ReturnType<typeof runLeaderElected>;
  const health = await serveHealth({ bindAddress: flags.bindAddress, port: flags.port, healthy: () => true, metrics: metrics.registry, logger });
  metrics.watchLeader(() => isLeading(flags, elector));

  const recorders = new Map<string, ApiEventRecorder>();
  let informers: SharedInformerFactory | undefined;
  const shutdown = onShutdown(logger, async () => {
    stopping.abort();
    await elector?.stop();
    await informers?.stop();
    health?.close();
  });

  // Controllers and their informers start only once this replica leads, as upstream: a standby
  // holds no caches. Losing the lease ends the process (kube-controller-manager exits too).
  const run = async (signal: AbortSignal): Promise<void> => {
    informers = new SharedInformerFactory(client, { logger });
    const context: ControllerContext = {
      client,
      informers,
      clock: realClock,
      logger,
      options: optionsFrom(flags, rootCaBundle),
      recorder(component: string): EventRecorder {
        let recorder = recorders.get(component);
        if (recorder === undefined) {
          recorder = new ApiEventRecorder({ client, component, instance: identity, logger, qps: flags.kubeApiQps, burst: flags.kubeApiBurst });
          recorders.set(component, recorder);
        }
        return recorder;
      },
      newQueue: (name) => new RateLimitingQueue<string>({ name, logger, metrics: metrics.workqueue }),
    };
    const running = enabled.map((descriptor) => ({ name: descriptor.name, controller: descriptor.create(context) }));
    informers.start();
    logger.info({ event: 'controllers-started', controllers: running.map((r) => r.name) }, 'starting controllers');
    await Promise.all(
      running.map(({ name, controller }) =>
        controller.run(signal).catch((error: unknown) => {
          logger.error({ err: error, controller: name }, 'controller stopped with an error');
          throw error;
        }),
      ),
    );
  };
  elector = runLeaderElected({ client, flags, identity, logger, run, onLost: () => shutdown('leadership-lost', 1) }, stopping.signal);
}

runMain('k8ts-controller-manager', main);
