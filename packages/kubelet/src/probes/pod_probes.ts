import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { Clock } from '@k8ts/base';
import type { ExecSync } from './exec_probe.js';
import { ProbeWorker, type ProbeEvent, type ProbeKind, type ProbeWorkerOptions } from './probe_worker.js';

/**
 * The probe workers of one pod (the kubelet's PodProbes): one ProbeWorker per running container
 * instance and probe kind, started when the pod worker reports the container running and stopped
 * when it no longer does. Results are read by container id; every change wakes the pod worker.
 */

export interface PodProbeSetOptions {
  readonly clock: Clock;
  /** The runtime's execSync, for exec probes. */
  readonly execSync: ExecSync;
  /** Called when a result changes, so the pod's status is computed again. */
  readonly wake: () => void;
  /** Probe events (Unhealthy, ProbeWarning) to record on the pod. */
  readonly onEvent?: (pod: Pod, container: Container, event: ProbeEvent) => void;
  /** Tests inject outcomes (see ProbeWorkerOptions.run). */
  readonly run?: ProbeWorkerOptions['run'];
}

interface Instance {
  readonly containerName: string;
  readonly workers: Map<ProbeKind, ProbeWorker>;
}

const KINDS: readonly ProbeKind[] = ['startup', 'liveness', 'readiness'];

export class PodProbeSet {
  private readonly instances = new Map<string, Instance>();
  private stopped = false;

  constructor(private readonly options: PodProbeSetOptions) {}

  /** The containers now running: new ones get their workers, the others' workers stop. */
  track(pod: Pod, running: readonly { readonly container: Container; readonly containerId: string }[], podIP: string): void {
    if (this.stopped) return;
    const live = new Set(running.map(({ containerId }) => containerId));
    for (const [containerId, instance] of this.instances) {
      if (live.has(containerId)) continue;
      instance.workers.forEach((worker) => worker.stop());
      this.instances.delete(containerId);
    }
    for (const { container, containerId } of running) {
      if (!this.instances.has(containerId)) this.instances.set(containerId, this.startWorkers(pod, container, containerId, podIP));
    }
    if (pod.metadata?.deletionTimestamp) {
      for (const instance of this.instances.values()) instance.workers.forEach((worker) => worker.terminating());
    }
  }

  /** Readiness: passes only after its probe passed; a container without a readiness probe is ready. */
  ready(container: Container, containerId: string): boolean {
    if (container.readinessProbe === undefined) return true;
    return this.instances.get(containerId)?.workers.get('readiness')?.result === 'Success';
  }

  /** Started: its startup probe passed, or it has none. */
  started(container: Container, containerId: string): boolean {
    if (container.startupProbe === undefined) return true;
    return this.instances.get(containerId)?.workers.get('startup')?.result === 'Success';
  }

  /** Why the container must be restarted (its liveness or startup probe failed), or undefined. */
  livenessFailed(containerId: string): string | undefined {
    const instance = this.instances.get(containerId);
    if (instance === undefined) return undefined;
    for (const kind of ['liveness', 'startup'] as const) {
      if (instance.workers.get(kind)?.result === 'Failure') return `Container ${instance.containerName} failed ${kind} probe, will be restarted`;
    }
    return undefined;
  }

  stop(): void {
    this.stopped = true;
    for (const instance of this.instances.values()) instance.workers.forEach((worker) => worker.stop());
    this.instances.clear();
  }

  private startWorkers(pod: Pod, container: Container, containerId: string, podIP: string): Instance {
    const workers = new Map<ProbeKind, ProbeWorker>();
    const startedAtMs = this.options.clock.now();
    const started = () => workers.get('startup') === undefined || workers.get('startup')?.result === 'Success';
    for (const kind of KINDS) {
      const probe = kind === 'startup' ? container.startupProbe : kind === 'liveness' ? container.livenessProbe : container.readinessProbe;
      if (probe === undefined) continue;
      const worker = new ProbeWorker({
        kind,
        probe,
        container,
        containerId,
        podIP,
        execSync: this.options.execSync,
        clock: this.options.clock,
        startedAtMs,
        started,
        onResult: (result) => {
          // Once started, readiness is probed at once rather than at its next period.
          if (kind === 'startup' && result === 'Success') workers.get('readiness')?.trigger();
          this.options.wake();
        },
        ...(this.options.onEvent !== undefined ? { onEvent: (event: ProbeEvent) => this.options.onEvent?.(pod, container, event) } : {}),
        ...(this.options.run !== undefined ? { run: this.options.run } : {}),
      });
      workers.set(kind, worker);
    }
    workers.forEach((worker) => worker.start());
    return { containerName: container.name, workers };
  }
}
