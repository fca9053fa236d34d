import { leaderGauge } from '@k8ts/service';

/**
 * Which replica leads, in its own words: client-go's `leader_election_master_status{name="<lease>"}`
 * on its /metrics (a Lease's holderIdentity, `<hostname>_<random>`, names no local process).
 */
export async function reportsLeading(healthUrl: string, lease: string, timeoutMs: number): Promise<boolean> {
  const response = await fetch(`${healthUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${healthUrl}/metrics answered ${response.status}`);
  return leaderGauge(await response.text(), lease) === 1;
}
