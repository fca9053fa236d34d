/**
 * Which local replica leads: the Lease's holder as the API server has it, and each replica's own
 * word for it, `leader_election_master_status{name}` on its /metrics (the holder identity is
 * `<hostname>_<random>`, which names no local process by itself).
 */
import { leaderGauge } from '@k8ts/service';

/** A replica of the local cluster that takes part in an election. */
export interface ElectingProcess {
  readonly name: string;
  /** Its /healthz and /metrics base URL. */
  readonly healthUrl: string;
  /** The Lease (in kube-system) it campaigns for, also the gauge's `name` label. */
  readonly lease: string;
}

export interface LeaderReport {
  readonly lease: string;
  /** The Lease's holderIdentity ('' when released); undefined when there is no Lease yet. */
  readonly holder?: string;
  /** Its renewTime plus leaseDurationSeconds has passed: a candidate may take it over. */
  readonly expired?: boolean;
  /** The local replicas whose /metrics say they lead. */
  readonly leaders: readonly string[];
  /** What could not be read (the API server or a replica's /metrics). */
  readonly problems: readonly string[];
}

interface LeaseSpecSeen {
  readonly holderIdentity?: string;
  readonly renewTime?: string;
  readonly leaseDurationSeconds?: number;
}

const TIMEOUT_MS = 3_000;

async function readLease(apiserver: string, name: string): Promise<LeaseSpecSeen | undefined> {
  const response = await fetch(`${apiserver}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.ok) throw new Error(`GET lease ${name}: ${response.status} ${(await response.text()).slice(0, 200)}`);
  const lease = (await response.json()) as { spec?: LeaseSpecSeen };
  return lease.spec ?? {};
}

async function reportsLeading(process: ElectingProcess): Promise<boolean> {
  const response = await fetch(`${process.healthUrl}/metrics`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const value = leaderGauge(await response.text(), process.lease);
  if (value === undefined) throw new Error(`/metrics has no leader_election_master_status{name="${process.lease}"}`);
  return value === 1;
}

/** One report for each Lease the given processes campaign for. */
export async function leaderReports(apiserver: string, processes: readonly ElectingProcess[], nowMs = Date.now()): Promise<LeaderReport[]> {
  const leases = [...new Set(processes.map((p) => p.lease))];
  return Promise.all(
    leases.map(async (lease): Promise<LeaderReport> => {
      const problems: string[] = [];
      const spec = await readLease(apiserver, lease).catch((error: unknown) => {
        problems.push(`lease: ${(error as Error).message}`);
        return undefined;
      });
      const replicas = processes.filter((p) => p.lease === lease);
      const leading = await Promise.all(
        replicas.map((p) =>
          reportsLeading(p).catch((error: unknown) => {
            problems.push(`${p.name}: ${(error as Error).message}`);
            return false;
          }),
        ),
      );
      const renewedMs = spec?.renewTime === undefined ? NaN : Date.parse(spec.renewTime);
      const expired = Number.isNaN(renewedMs) ? undefined : renewedMs + (spec?.leaseDurationSeconds ?? 0) * 1000 < nowMs;
      return {
        lease,
        ...(spec === undefined ? {} : { holder: spec.holderIdentity ?? '' }),
        ...(expired === undefined ? {} : { expired }),
        leaders: replicas.filter((_, i) => leading[i]).map((p) => p.name),
        problems,
      };
    }),
  );
}

/** One line for `k8ts status`. */
export function formatLeaderReport(report: LeaderReport): string {
  const leads = report.leaders.length === 0 ? 'no local replica leads' : report.leaders.length === 1 ? `${report.leaders[0]} leads` : `${report.leaders.join(' and ')} all say they lead`;
  const holder =
    report.holder === undefined ? 'no Lease yet' : report.holder === '' ? 'Lease released' : `holderIdentity ${report.holder}${report.expired ? ', expired' : ''}`;
  const problems = report.problems.length === 0 ? '' : `; could not read ${report.problems.join('; ')}`;
  return `${`${report.lease}:`.padEnd(25)} ${leads} (Lease kube-system/${report.lease}: ${holder})${problems}`;
}
