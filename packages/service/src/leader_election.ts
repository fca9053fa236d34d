import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LeaderElector, type ApiClient } from '@k8ts/client';
import { Option, type Command } from 'commander';
import type { Logger } from 'pino';
import { booleanFlag, durationFlag } from './flags.js';

export interface LeaderElectionFlags {
  readonly leaderElect: boolean;
  readonly leaderElectLeaseDuration: number;
  readonly leaderElectRenewDeadline: number;
  readonly leaderElectRetryPeriod: number;
  readonly leaderElectResourceNamespace: string;
  readonly leaderElectResourceName: string;
}

/** kube's leader-election flags with upstream's defaults (15 s, 10 s, 2 s; a Lease in kube-system). */
export function addLeaderElectionFlags(program: Command, resourceName: string): Command {
  return program
    .addOption(new Option('--leader-elect [bool]', 'elect a leader among replicas before doing work').default(true).argParser(booleanFlag))
    .addOption(new Option('--leader-elect-lease-duration <duration>', 'how long a lease lasts unrenewed').default(15_000, '15s').argParser(durationFlag('--leader-elect-lease-duration')))
    .addOption(new Option('--leader-elect-renew-deadline <duration>', 'how long the leader tries to renew before giving up').default(10_000, '10s').argParser(durationFlag('--leader-elect-renew-deadline')))
    .addOption(new Option('--leader-elect-retry-period <duration>', 'wait between tries to acquire or renew').default(2_000, '2s').argParser(durationFlag('--leader-elect-retry-period')))
    .addOption(new Option('--leader-elect-resource-namespace <ns>', 'namespace of the leader Lease').default('kube-system'))
    .addOption(new Option('--leader-elect-resource-name <name>', 'name of the leader Lease').default(resourceName));
}

/** A replica's identity in the Lease, as kube's components make it: `<hostname>_<random>`, new at each start. */
export function leaderIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}

/** Whether this replica does the work now: it holds the Lease, or runs without --leader-elect. */
export function isLeading(flags: Pick<LeaderElectionFlags, 'leaderElect'>, elector: LeaderElector | undefined): boolean {
  return flags.leaderElect ? (elector?.isLeader() ?? false) : true;
}

export interface LeaderElectedOptions {
  readonly client: ApiClient;
  readonly flags: LeaderElectionFlags;
  readonly identity: string;
  readonly logger: Logger;
  /** The work: runs while this replica leads (or at once without --leader-elect) until `signal` aborts. */
  readonly run: (signal: AbortSignal) => Promise<void>;
  /** Leadership lost: kube's components exit and start over clean; the caller does that here. */
  readonly onLost: () => void;
}

/**
 * Runs `run` under leader election as kube's components do, or at once with --leader-elect=false.
 * Returns the elector (to stop it at shutdown and to read `isLeader()`), undefined without one.
 * A `run` that fails is logged and treated as lost leadership.
 */
export function runLeaderElected(options: LeaderElectedOptions, stopping: AbortSignal): LeaderElector | undefined {
  const { flags, logger } = options;
  const work = (signal: AbortSignal): void => {
    options.run(signal).catch((error: unknown) => {
      logger.error({ err: error }, 'work failed');
      if (!stopping.aborted) options.onLost();
    });
  };
  if (!flags.leaderElect) {
    work(stopping);
    return undefined;
  }
  const elector = new LeaderElector({
    client: options.client,
    namespace: flags.leaderElectResourceNamespace,
    name: flags.leaderElectResourceName,
    identity: options.identity,
    leaseDurationMs: flags.leaderElectLeaseDuration,
    renewDeadlineMs: flags.leaderElectRenewDeadline,
    retryPeriodMs: flags.leaderElectRetryPeriod,
    logger,
    callbacks: {
      onStartedLeading: (signal) => {
        logger.info({ event: 'leading' }, 'started leading');
        work(signal);
      },
      onStoppedLeading: () => {
        if (stopping.aborted) return;
        logger.error({ event: 'leadership-lost' }, 'leader election lost');
        options.onLost();
      },
      onNewLeader: (leader) => logger.info({ event: 'new-leader', leader }, 'leader observed'),
    },
  });
  elector.run().catch((error: unknown) => {
    logger.error({ err: error }, 'leader election failed');
    if (!stopping.aborted) options.onLost();
  });
  return elector;
}
