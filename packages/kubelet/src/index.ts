/**
 * @k8ts/kubelet: the kubelet's logic without the process (see README.md).
 */
export * from './runtime/runtime.js';
export type { PodNetwork, PodNetworkAttachment } from './network/pod_network.js';
export { hostNetwork } from './network/host_network.js';
export { namespacedNetwork, podHostname, type NamespacedNetworkOptions } from './network/namespaced_network.js';
export { selectPodNetwork, type PodNetworkSelection } from './network/select_network.js';
export { canUseNamespaces, type NamespaceSupport } from './network/privileges.js';
export { removePodNetwork } from './network/remove_pod_network.js';
export { tearDownNode } from './node_teardown.js';
export { CriLogWriter, type CriLogWriterOptions, type CriLogWriterStats } from './logs/cri_log_writer.js';
export { ContainerConfigError, makeContainerConfig, hashContainer, type ContainerConfigInput } from './container/container_config.js';
export type { ObjectLookup } from './container/object_lookup.js';
export type { VolumeMounts } from './volumes/volume_mounts.js';
export * from './node/index.js';
export { readCriLog, type ReadLogOptions } from './logs/cri_log_reader.js';
export { chooseLogFile, LogRequestError, type LogLocation } from './logs/container_log_file.js';
export { LogsServer, type LogsServerOptions } from './logs/logs_server.js';
export * from './simulated/index.js';
export { Kubelet, type KubeletOptions } from './kubelet.js';
export { VolumeManager, VolumeSetUpError, type VolumeManagerOptions, type VolumeFailure, type EmptyDirInfo } from './volumes/volume_manager.js';
export { NodeStreamServer, type NodeStreamServerOptions, type LocateContainer, type LocatedPod } from './streams/stream_server.js';
export { ProcessRuntime, type ProcessRuntimeOptions } from './runtime/process/process_runtime.js';
export { ImageCatalog, BUILTIN_CATALOG_PATH, effectiveCommand, type CatalogImage, type ResolvedImage } from './runtime/process/image_catalog.js';
export { parseImageReference, type ImageReference } from './runtime/process/image_reference.js';
export * from './probes/index.js';
export { dummyInterfaceAddresses, type AddressHolder } from './network/dummy_interface.js';
export { desiredNodeRoutes, localIpv4Addresses, NodeRoutes, NODE_ROUTE_PROTOCOL, type NodeRoute } from './network/node_routes.js';
export { formatResolvConf, parseResolvConf, podResolvConf, type HostResolvConf, type PodDnsOptions } from './dns/resolv_conf.js';
