/**
 * @k8ts/kube-proxy: kube-proxy's logic for one node, without the process.
 * - `buildServiceMap` (pure): Services + EndpointSlices → the virtual servers this node serves
 *   (cluster IP:port, node ports) with the endpoints each may use (CategorizeEndpoints, traffic
 *   policies, session affinity).
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
