import { Gauge, type Registry } from 'prom-client';

/**
 * client-go's `leader_election_master_status{name}` in `registry`: 1 while `leading()` says this
 * replica holds the Lease `name`, 0 while it stands by; read at each scrape. `k8ts status` reads it
 * to tell which local replica leads.
 */
export function registerLeaderElectionMetric(registry: Registry, name: string, leading: () => boolean): void {
  new Gauge({
    name: 'leader_election_master_status',
    help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      this.set({ name }, leading() ? 1 : 0);
    },
  });
}

/**
 * The reader's side: the value of `leader_election_master_status{name="<lease>"}` in a /metrics
 * text (1 leads, 0 stands by), or undefined when the replica does not report that Lease.
 */
export function leaderGauge(metricsText: string, lease: string): number | undefined {
  for (const line of metricsText.split('\n')) {
    const match = /^leader_election_master_status\{([^}]*)\}\s+(\S+)/.exec(line);
    if (match && (match[1] ?? '').split(',').includes(`name="${lease}"`)) return Number(match[2]);
  }
  return undefined;
}
