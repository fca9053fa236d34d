/**
 * kube-controller-manager's metrics under their upstream names, in a registry of this process's own:
 * `leader_election_master_status` (1 while this replica leads) and the workqueues' metrics.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export class ControllerManagerMetrics {
  readonly registry = new Registry();
  private leading: () => boolean = () => false;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const metrics = this;
    new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
      labelNames: ['name'],
      registers: [this.registry],
      collect() {
        this.set({ name: 'kube-controller-manager' }, metrics.leading() ? 1 : 0);
      },
    });
  }

  watchLeader(leading: () => boolean): void {
    this.leading = leading;
  }
}
