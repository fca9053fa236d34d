/**
 * @k8ts/l4proxy: the bounded userspace L4 proxy that kube-proxy and the API load balancer use.
 * - `TcpProxy`: accept, pick a backend (another on refusal), splice with backpressure and half-close.
 * - `UdpProxy`: a flow (and a backend socket) per client address, closed when idle, bounded in count.
 * - `roundRobin`, `clientIpAffinity`: backend pickers (sessionAffinity: ClientIP), updatable in place.
 * - `HealthCheckedPool`: backends checked by HTTP GET (HAProxy's rise/fall), round robin over the up ones.
 */
export { FIRST_ATTEMPT, formatBackend, sameBackend, type Backend, type ClientAddress, type PickBackend, type PickContext } from './backend.js';
export { DEFAULT_AFFINITY_TIMEOUT_SECONDS, clientIpAffinity, roundRobin, type Balancer, type ClientIpAffinityOptions } from './balancers.js';
export { DEFAULT_CONNECT_ATTEMPTS, TcpProxy, type TcpConnectionState, type TcpProxyCounters, type TcpProxyOptions } from './tcp_proxy.js';
export { DEFAULT_UDP_IDLE_TIMEOUT_MS, UdpProxy, type UdpProxyCounters, type UdpProxyOptions } from './udp_proxy.js';
export {
  DEFAULT_FAILURE_THRESHOLD,
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_PATH,
  DEFAULT_SUCCESS_THRESHOLD,
  HealthCheckedPool,
  type BackendHealth,
  type CheckResult,
  type HealthCheckedPoolOptions,
} from './health_checked_pool.js';
