/**
 * What a process-runtime node runs for the cluster network besides the kubelet: routes to the other
 * nodes' pods (namespaced pod network only), the Service and DNS addresses held on `kube-ipvs0`, the
 * cluster DNS server on the kube-dns Service IP (as NodeLocal DNSCache binds it on every node), and
 * kube-proxy. Without the privileges to hold addresses (not root) there is neither cluster DNS nor
 * Service proxying: pods then share the node's network and resolver. Several agents may share one
 * network namespace (tests, a local cluster without per-node namespaces): then one of them gets each
 * listening address and the others retry, so one serves while it lives.
 */
import { isAlreadyExists, isNotFound, SharedInformerFactory, type ApiClient, type KubeObject } from '@k8ts/client';
import { ClusterDnsServer, informerRecordSource, type EndpointSliceObject, type NamespaceObject, type ServiceObject } from '@k8ts/dns';
import { dummyInterfaceAddresses, NodeRoutes, parseResolvConf } from '@k8ts/kubelet';
import { KubeProxy } from '@k8ts/kubeproxy';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { NodeAgentFlags } from './flags.js';

export interface ClusterNetwork {
  /** kube-proxy, when this node proxies Services (root with namespaces, and --kube-proxy). */
  readonly proxy: KubeProxy | undefined;
  stop(): Promise<void>;
}

/** The interface holding Service IPs, as kube-proxy's IPVS mode names it. */
export const SERVICE_ADDRESS_INTERFACE = 'kube-ipvs0';
/** Retries of a listening address another agent holds, and of a failed sync. */
const RETRY_MS = 5_000;

export async function startClusterNetwork(options: {
  flags: NodeAgentFlags;
  client: ApiClient;
  nodeName: string;
  /** Pods have network namespaces of their own on a bridge (routes to other nodes are needed). */
  namespacedPods: boolean;
  /** The agent may add interfaces and addresses (root with namespaces). */
  privileged: boolean;
  logger: Logger;
}): Promise<ClusterNetwork> {
  const { flags, client, nodeName, namespacedPods, privileged } = options;
  const logger = options.logger.child({ part: 'cluster-network' });
  const informers = new SharedInformerFactory(client);
  const nodes = informers.informerFor<Node & KubeObject>('', 'v1', 'nodes');
  const services = informers.informerFor<ServiceObject & KubeObject>('', 'v1', 'services');
  const slices = informers.informerFor<EndpointSliceObject & KubeObject>('discovery.k8s.io', 'v1', 'endpointslices');
  const namespaces = informers.informerFor<NamespaceObject & KubeObject>('', 'v1', 'namespaces');
  const stops: (() => Promise<void>)[] = [];
  let stopped = false;

  if (namespacedPods) {
    const routes = new NodeRoutes(nodeName, { logger });
    const sync = (): void => {
      routes.sync(nodes.lister().list()).catch((error: unknown) => logger.error({ err: error }, 'node routes not updated'));
    };
    nodes.addEventHandler({ onAdd: sync, onUpdate: sync, onDelete: sync });
  }

  const dnsAddresses = privileged && flags.clusterDnsServer ? flags.clusterDns : [];
  let proxy: KubeProxy | undefined;
  if (privileged) {
    const holder = dummyInterfaceAddresses(SERVICE_ADDRESS_INTERFACE);
    await holder.ensure(dnsAddresses);
    if (flags.kubeProxy) {
      // The DNS addresses stay held (and unproxied) whatever Services say: this node answers on them.
      proxy = new KubeProxy({ nodeName, informers, addresses: holder, skipClusterIPs: dnsAddresses, logger: logger.child({ part: 'kube-proxy' }) });
    }
  }
  for (const address of dnsAddresses) {
    const server = new ClusterDnsServer({
      address,
      port: 53,
      zone: flags.clusterDomain,
      records: informerRecordSource({ services: services.lister(), endpointSlices: slices.lister(), namespaces: namespaces.lister() }),
      // The node's own resolvers answer the rest (never the cluster DNS itself: a loop).
      upstream: upstreamResolvers(flags.resolvConf, flags.clusterDns),
      logger,
    });
    let failures = 0;
    const serve = async (): Promise<void> => {
      if (stopped) return;
      try {
        await server.start();
      } catch (error) {
        await server.stop();
        // Said once: while another agent in this network namespace serves the address, this one waits.
        logger[failures++ === 0 ? 'warn' : 'debug']({ err: error, address }, 'cluster DNS: address not available (held by another agent in this network namespace?); retrying');
        setTimeout(() => serve().catch((retry: unknown) => logger.error({ err: retry }, 'cluster DNS: retry failed')), RETRY_MS).unref();
      }
    };
    await serve();
    stops.push(() => server.stop());
  }
  if (dnsAddresses.length > 0) {
    // Until the Service exists, its address could be given to another Service: retried until done.
    const ensure = async (): Promise<void> => {
      if (stopped || (await ensureKubeDnsService(client, dnsAddresses[0]!, logger))) return;
      setTimeout(() => ensure().catch((error: unknown) => logger.error({ err: error }, 'cluster DNS: kube-dns Service not ensured')), RETRY_MS).unref();
    };
    await ensure();
  }

  informers.start();
  if (proxy !== undefined) {
    await proxy.start();
    const started = proxy;
    stops.push(() => started.stop());
  }
  return {
    proxy,
    async stop(): Promise<void> {
      stopped = true;
      for (const stop of stops) await stop();
      await informers.stop();
    },
  };
}

/** The nameservers of --resolv-conf less the cluster DNS addresses; none when the file cannot be read. */
function upstreamResolvers(resolvConf: string, clusterDns: readonly string[]): string[] {
  if (resolvConf === '') return [];
  try {
    return parseResolvConf(readFileSync(resolvConf, 'utf8')).nameservers.filter((server) => !clusterDns.includes(server));
  } catch {
    return [];
  }
}

/**
 * The `kube-dns` Service in kube-system on the cluster DNS address, as kubeadm's DNS add-on creates
 * it, so that the address is allocated (no other Service gets it) and shows where clients look for
 * it. It has no selector: every node answers on the address itself, so kube-proxy leaves it alone.
 */
async function ensureKubeDnsService(client: ApiClient, clusterIP: string, logger: Logger): Promise<boolean> {
  const resource = client.resource<Service & KubeObject>('', 'v1', 'services').namespace('kube-system');
  try {
    await resource.get('kube-dns');
    return true;
  } catch (error) {
    if (!isNotFound(error)) {
      logger.warn({ err: error }, 'cluster DNS: could not read the kube-dns Service; retrying');
      return false;
    }
  }
  const service: Service & KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS', 'kubernetes.io/cluster-service': 'true' } },
    spec: {
      clusterIP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    },
  };
  try {
    await resource.create(service);
    logger.info({ clusterIP }, 'cluster DNS: created the kube-dns Service');
    return true;
  } catch (error) {
    if (isAlreadyExists(error)) return true;
    logger.warn({ err: error }, 'cluster DNS: could not create the kube-dns Service; retrying');
    return false;
  }
}
