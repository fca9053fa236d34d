import type { Service } from 'kubernetes-types/core/v1.js';

/**
 * The environment variables the kubelet gives every container for the Services it may reach, as
 * upstream's envvars.FromServices: `<SVC>_SERVICE_HOST`, `<SVC>_SERVICE_PORT` (the first port),
 * `<SVC>_SERVICE_PORT_<NAME>` for named ports, then the Docker-link variables (`<SVC>_PORT`,
 * `<SVC>_PORT_<port>_<PROTO>` and its `_PROTO`, `_PORT`, `_ADDR`).
 */

/** A Service with a cluster IP (headless and not-yet-allocated Services get no variables). */
export function hasClusterIP(service: Service): boolean {
  const ip = service.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

/**
 * Which Services a pod sees, as the kubelet's getServiceEnvVarMap: the `kubernetes` Service of the
 * `default` namespace always, and the pod's namespace's Services when service links are enabled (a
 * Service named `kubernetes` in the pod's own namespace then wins). Sorted by name, so the order of
 * the variables is stable (upstream's is a Go map's).
 */
export function visibleServices(
  podNamespace: string,
  enableServiceLinks: boolean,
  namespaceServices: readonly Service[],
  defaultServices: readonly Service[],
): Service[] {
  const byName = new Map<string, Service>();
  const master = defaultServices.find((service) => service.metadata?.name === 'kubernetes' && hasClusterIP(service));
  if (master !== undefined) byName.set('kubernetes', master);
  if (enableServiceLinks) {
    for (const service of namespaceServices) {
      const name = service.metadata?.name;
      if (name === undefined || !hasClusterIP(service)) continue;
      if (podNamespace === 'default' && name === 'kubernetes' && byName.has(name)) continue;
      byName.set(name, service);
    }
  }
  return [...byName.values()].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

export function serviceEnvironment(services: readonly Service[]): { name: string; value: string }[] {
  const result: { name: string; value: string }[] = [];
  for (const service of services) {
    const ports = service.spec?.ports ?? [];
    const first = ports[0];
    if (!hasClusterIP(service) || first === undefined) continue;
    const clusterIP = service.spec?.clusterIP ?? '';
    const prefix = variableName(service.metadata?.name ?? '');
    result.push({ name: `${prefix}_SERVICE_HOST`, value: clusterIP });
    result.push({ name: `${prefix}_SERVICE_PORT`, value: String(first.port) });
    for (const port of ports) {
      if (port.name) result.push({ name: `${prefix}_SERVICE_PORT_${variableName(port.name)}`, value: String(port.port) });
    }
    ports.forEach((port, index) => {
      const protocol = (port.protocol ?? 'TCP').toLowerCase();
      const url = `${protocol}://${joinHostPort(clusterIP, port.port)}`;
      if (index === 0) result.push({ name: `${prefix}_PORT`, value: url });
      const portPrefix = `${prefix}_PORT_${port.port}_${protocol.toUpperCase()}`;
      result.push(
        { name: portPrefix, value: url },
        { name: `${portPrefix}_PROTO`, value: protocol },
        { name: `${portPrefix}_PORT`, value: String(port.port) },
        { name: `${portPrefix}_ADDR`, value: clusterIP },
      );
    });
  }
  return result;
}

function variableName(name: string): string {
  return name.replaceAll('-', '_').toUpperCase();
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
