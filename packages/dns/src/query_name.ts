/**
 * A name inside the cluster zone taken apart as CoreDNS's kubernetes plugin reads it:
 *   [_port._protocol.|endpoint.]service.namespace.(svc|pod).zone
 * Labels are lower-cased (DNS names are case-insensitive).
 */
export type ClusterName =
  | { readonly kind: 'apex' }
  /** `svc.zone`, `pod.zone`, or `<ns>.(svc|pod).zone`: names that exist with no records of their own. */
  | { readonly kind: 'namespace'; readonly podOrService: 'svc' | 'pod'; readonly namespace: string | undefined }
  | {
      readonly kind: 'service';
      readonly namespace: string;
      readonly service: string;
      /** The endpoint's hostname (or dashed IP) in `<endpoint>.<svc>.<ns>.svc.zone`. */
      readonly endpoint: string | undefined;
      /** From `_<port>._<protocol>.`: the port name and protocol (without underscores). */
      readonly port: string | undefined;
      readonly protocol: string | undefined;
    }
  | { readonly kind: 'pod'; readonly namespace: string; readonly pod: string }
  | { readonly kind: 'invalid' };

/** Lower-cases and drops a trailing dot. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Whether `name` is `zone` or below it (both normalized). */
export function inZone(name: string, zone: string): boolean {
  return zone === '' || name === zone || name.endsWith(`.${zone}`);
}

export function parseClusterName(name: string, zone: string): ClusterName {
  const normalized = normalizeName(name);
  if (!inZone(normalized, zone)) return { kind: 'invalid' };
  const base = normalized === zone ? '' : normalized.slice(0, normalized.length - zone.length - (zone === '' ? 0 : 1));
  if (base === '') return { kind: 'apex' };
  const labels = base.split('.');
  const podOrService = labels.pop();
  if (podOrService !== 'svc' && podOrService !== 'pod') return { kind: 'invalid' };
  const namespace = labels.pop();
  if (namespace === undefined) return { kind: 'namespace', podOrService, namespace: undefined };
  const service = labels.pop();
  if (service === undefined) return { kind: 'namespace', podOrService, namespace };
  if (podOrService === 'pod') return labels.length === 0 ? { kind: 'pod', namespace, pod: service } : { kind: 'invalid' };
  if (labels.length === 0) return { kind: 'service', namespace, service, endpoint: undefined, port: undefined, protocol: undefined };
  if (labels.length === 1) return { kind: 'service', namespace, service, endpoint: labels[0], port: undefined, protocol: undefined };
  if (labels.length === 2) {
    const [port, protocol] = labels as [string, string];
    return { kind: 'service', namespace, service, endpoint: undefined, port: stripUnderscore(port), protocol: stripUnderscore(protocol) };
  }
  return { kind: 'invalid' };
}

function stripUnderscore(label: string): string {
  return label.startsWith('_') ? label.slice(1) : label;
}
