import type { Container } from 'kubernetes-types/core/v1.js';
import { ProbeError } from './probe_result.js';

/** A probe's port, a number or the name of a container port, as upstream's ResolveContainerPort. */
export function resolveContainerPort(port: number | string, container: Container): number {
  let resolved: number;
  if (typeof port === 'number') resolved = port;
  else {
    const named = container.ports?.find((candidate) => candidate.name === port);
    if (named !== undefined) resolved = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) resolved = Number.parseInt(port, 10);
    else throw new ProbeError(`strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`);
  }
  if (resolved > 0 && resolved < 65536) return resolved;
  throw new ProbeError(`invalid port number: ${resolved}`);
}
