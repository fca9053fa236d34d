/**
 * @k8ts/kubeproxy: kube-proxy's logic for one node, without the process.
 * - `buildServiceMap` (pure): Services + EndpointSlices → the virtual servers this node serves
 *   (cluster IP:port, node ports) with the endpoints each may use (CategorizeEndpoints, traffic
 *   policies, session affinity).
 * - `KubeProxy`: keeps one @k8ts/l4proxy listener per virtual server in step with the informers and
 *   holds the cluster IPs through a `ServiceAddressHolder` (the kubelet's dummyInterfaceAddresses).
 */
export {
  SERVICE_NAME_LABEL,
  categorizeEndpoints,
  endpointsByServicePort,
  servicePortKey,
  type CategorizedEndpoints,
  type ProxyProtocol,
  type ServiceEndpoint,
} from './endpoints.js';
export {
  ALL_NODE_ADDRESSES,
  SERVICE_PROXY_NAME_LABEL,
  buildServiceMap,
  type ServiceMap,
  type ServiceMapInput,
  type VirtualServer,
  type VirtualServerKind,
} from './service_map.js';
export type { ListenerLimits, ListenerState } from './listener.js';
export {
  KubeProxy,
  type EndpointSliceObject,
  type KubeProxyCounters,
  type KubeProxyOptions,
  type ServiceAddressHolder,
  type ServiceObject,
} from './kube_proxy.js';
