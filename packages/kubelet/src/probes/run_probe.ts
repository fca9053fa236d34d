import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import { execProbe, type ExecSync } from './exec_probe.js';
import { grpcProbe } from './grpc_probe.js';
import { httpProbe } from './http_probe.js';
import { resolveContainerPort } from './ports.js';
import { ProbeError, type ProbeOutcome } from './probe_result.js';
import { tcpProbe } from './tcp_probe.js';

export interface ProbeTarget {
  readonly container: Container;
  readonly containerId: string;
  /** The pod's primary IP: network probes go there unless they name a host. */
  readonly podIP: string;
  readonly execSync: ExecSync;
}

/** Probe timing and thresholds with upstream's defaults filled in. */
export interface ProbeTiming {
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

export function probeTiming(probe: Probe): ProbeTiming {
  return {
    initialDelaySeconds: probe.initialDelaySeconds ?? 0,
    periodSeconds: positive(probe.periodSeconds, 10),
    timeoutSeconds: positive(probe.timeoutSeconds, 1),
    successThreshold: positive(probe.successThreshold, 1),
    failureThreshold: positive(probe.failureThreshold, 3),
  };
}

/**
 * Runs the probe's handler once (exec, httpGet, tcpSocket or grpc). Resolves to Success, Warning or
 * Failure with upstream's output; rejects with ProbeError when the probe cannot be run (result unknown).
 */
export async function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const { timeoutSeconds } = probeTiming(probe);
  if (probe.exec !== undefined) return execProbe(target.execSync, target.containerId, probe.exec.command ?? [], timeoutSeconds);
  if (probe.httpGet !== undefined) {
    const action = probe.httpGet;
    return httpProbe({
      scheme: action.scheme ?? 'HTTP',
      host: action.host || target.podIP,
      port: resolveContainerPort(action.port, target.container),
      path: action.path ?? '',
      headers: action.httpHeaders ?? [],
      timeoutSeconds,
    });
  }
  if (probe.tcpSocket !== undefined) {
    return tcpProbe(probe.tcpSocket.host || target.podIP, resolveContainerPort(probe.tcpSocket.port, target.container), timeoutSeconds);
  }
  if (probe.grpc !== undefined) {
    const port = probe.grpc.port;
    if (!(port > 0 && port < 65536)) throw new ProbeError(`invalid port number: ${port}`);
    return grpcProbe(target.podIP, port, probe.grpc.service ?? '', timeoutSeconds);
  }
  throw new ProbeError('missing probe handler');
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && value > 0 ? value : fallback;
}
