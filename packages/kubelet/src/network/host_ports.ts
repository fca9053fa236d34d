import { TcpProxy, UdpProxy } from '@k8ts/l4proxy';
import type { Logger } from 'pino';
import type { PortMapping } from '../runtime/runtime.js';

/** Connections (TCP) or flows (UDP) one host port carries at once. */
const MAX_CONNECTIONS = 1024;
const CONNECT_TIMEOUT_MS = 5_000;

interface OpenPort {
  readonly key: string;
  close(): Promise<void>;
}

/** `hostIP:hostPort/protocol`, the port's name in errors, as the kubelet's hostport manager writes it. */
function describe(mapping: PortMapping): string {
  return `${mapping.hostIP || '0.0.0.0'}:${mapping.hostPort}/${mapping.protocol}`;
}

/**
 * A pod's `hostPort`s: each is a listener on the node (its `hostIP`, or every address) that forwards
 * to the pod's IP and container port, what CNI's portmap plugin does with iptables, here with the
 * userspace L4 proxy. A port another process holds fails the sandbox's set-up, as the kubelet's
 * "cannot open hostport" does; the pod's sandbox is then retried.
 */
export class HostPorts {
  private readonly open = new Map<string, OpenPort[]>();

  constructor(private readonly logger?: Logger) {}

  /** Opens the sandbox's host ports to `podIP`; what is open for it already stays as it is. */
  async openFor(sandboxId: string, podIP: string, mappings: readonly PortMapping[]): Promise<void> {
    if (this.open.has(sandboxId)) return;
    const opened: OpenPort[] = [];
    try {
      for (const mapping of mappings) {
        if (mapping.hostPort === undefined || mapping.hostPort === 0 || mapping.protocol === 'SCTP') continue;
        opened.push(await this.listen(mapping, podIP));
      }
    } catch (error) {
      for (const port of opened) await port.close();
      throw error;
    }
    this.open.set(sandboxId, opened);
  }

  async closeFor(sandboxId: string): Promise<void> {
    const ports = this.open.get(sandboxId) ?? [];
    this.open.delete(sandboxId);
    for (const port of ports) await port.close();
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.open.keys()]) await this.closeFor(id);
  }

  private async listen(mapping: PortMapping, podIP: string): Promise<OpenPort> {
    const host = mapping.hostIP || '0.0.0.0';
    const backend = { host: podIP, port: mapping.containerPort };
    const common = { host, port: mapping.hostPort!, pickBackend: () => backend, ...(this.logger !== undefined ? { logger: this.logger } : {}) };
    const proxy =
      mapping.protocol === 'UDP'
        ? new UdpProxy({ ...common, maxFlows: MAX_CONNECTIONS })
        : new TcpProxy({ ...common, maxConnections: MAX_CONNECTIONS, connectTimeoutMs: CONNECT_TIMEOUT_MS });
    try {
      await proxy.listen();
    } catch (error) {
      await proxy.close().catch(() => {});
      throw new Error(`cannot open hostport ${describe(mapping)}: ${(error as Error).message}`);
    }
    return { key: describe(mapping), close: () => proxy.close() };
  }
}
