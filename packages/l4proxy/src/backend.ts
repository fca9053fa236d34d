/**
 * What both proxies ask of their caller: a backend for a client. The proxy calls `pickBackend` once
 * per TCP connection attempt (again, with the failed backends listed, when a backend refuses) and
 * once per new UDP flow. It must be cheap and synchronous; `undefined` means "no backend": the
 * client is reset (TCP) or its datagram dropped (UDP).
 */

export interface Backend {
  readonly host: string;
  readonly port: number;
}

/** The client as the proxy saw it (the remote end of the accepted socket or datagram). */
export interface ClientAddress {
  readonly address: string;
  readonly port: number;
}

export interface PickContext {
  /** 0 for the first try; n for the n-th retry after a backend refused or timed out. */
  readonly attempt: number;
  /** Backends this connection already failed to reach; a picker should avoid them. */
  readonly failed: readonly Backend[];
}

export type PickBackend = (client: ClientAddress, context: PickContext) => Backend | undefined;

export const FIRST_ATTEMPT: PickContext = { attempt: 0, failed: [] };

export function sameBackend(a: Backend, b: Backend): boolean {
  return a.port === b.port && a.host === b.host;
}

export function formatBackend(backend: Backend): string {
  return backend.host.includes(':') ? `[${backend.host}]:${backend.port}` : `${backend.host}:${backend.port}`;
}
