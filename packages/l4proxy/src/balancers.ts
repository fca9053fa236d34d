/**
 * Backend pickers, as kube-proxy spreads a Service's connections: round robin over the endpoints,
 * and sessionAffinity: ClientIP (a client IP sticks to the endpoint it last got, until it has been
 * idle for the timeout — upstream's default 10800 s). No I/O: time comes from a Clock.
 *
 * A Balancer's `setBackends` changes the endpoints in place, so that a proxy holding `pick` sees the
 * new set at its next connection and affinity survives endpoint updates (entries for endpoints that
 * left are dropped, as upstream).
 */
import { invariant, realClock, type Clock } from '@k8ts/base';
import { sameBackend, type Backend, type ClientAddress, type PickBackend, type PickContext } from './backend.js';

export interface Balancer {
  readonly pick: PickBackend;
  setBackends(backends: readonly Backend[]): void;
  backends(): readonly Backend[];
}

/** kube-proxy's default sessionAffinityConfig.clientIP.timeoutSeconds. */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10_800;

/** Each pick takes the next backend in turn, skipping the ones this connection already failed on. */
export function roundRobin(initial: readonly Backend[]): Balancer {
  let backends = [...initial];
  let next = 0;
  const pick = (_client: ClientAddress, context: PickContext): Backend | undefined => {
    for (let tried = 0; tried < backends.length; tried++) {
      const index = (next + tried) % backends.length;
      const backend = backends[index];
      invariant(backend !== undefined, `round robin index ${index} outside ${backends.length} backends`);
      if (context.failed.some((failed) => sameBackend(failed, backend))) continue;
      next = (index + 1) % backends.length;
      return backend;
    }
    return undefined;
  };
  return {
    pick,
    setBackends(updated) {
      backends = [...updated];
      next = backends.length === 0 ? 0 : next % backends.length;
    },
    backends: () => backends,
  };
}

export interface ClientIpAffinityOptions {
  /** How long a client IP keeps its backend after its last connection; default 10800 s. */
  readonly timeoutSeconds?: number;
  /** Client IPs remembered at most; past it the least recently used is forgotten. Default 65536. */
  readonly maxClients?: number;
  readonly clock?: Clock;
}

interface Affinity {
  readonly backend: Backend;
  lastUsedMs: number;
}

/**
 * sessionAffinity: ClientIP. A new (or expired, or failed) client gets the next backend round robin
 * and keeps it while it returns within `timeoutSeconds` of its last connection.
 */
export function clientIpAffinity(initial: readonly Backend[], options: ClientIpAffinityOptions = {}): Balancer {
  const timeoutMs = (options.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS) * 1000;
  const maxClients = options.maxClients ?? 65_536;
  const clock = options.clock ?? realClock;
  invariant(timeoutMs > 0 && maxClients > 0, `clientIpAffinity needs a positive timeout and client bound (got ${timeoutMs} ms, ${maxClients})`);
  const spread = roundRobin(initial);
  // Kept in least-recently-used order (a use re-inserts), so expired entries are always at the front.
  const affinities = new Map<string, Affinity>();

  const forgetExpired = (nowMs: number): void => {
    for (const [ip, affinity] of affinities) {
      if (nowMs - affinity.lastUsedMs < timeoutMs) break;
      affinities.delete(ip);
    }
  };

  const pick = (client: ClientAddress, context: PickContext): Backend | undefined => {
    const nowMs = clock.now();
    forgetExpired(nowMs);
    const held = affinities.get(client.address);
    affinities.delete(client.address);
    if (held !== undefined && !context.failed.some((failed) => sameBackend(failed, held.backend))) {
      held.lastUsedMs = nowMs;
      affinities.set(client.address, held);
      return held.backend;
    }
    const backend = spread.pick(client, context);
    if (backend === undefined) return undefined;
    if (affinities.size >= maxClients) {
      const oldest = affinities.keys().next();
      if (oldest.done !== true) affinities.delete(oldest.value);
    }
    affinities.set(client.address, { backend, lastUsedMs: nowMs });
    return backend;
  };

  return {
    pick,
    setBackends(updated) {
      spread.setBackends(updated);
      for (const [ip, affinity] of affinities) {
        if (!updated.some((backend) => sameBackend(backend, affinity.backend))) affinities.delete(ip);
      }
    },
    backends: () => spread.backends(),
  };
}
