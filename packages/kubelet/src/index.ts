/**
 * @k8ts/kubelet: the kubelet's logic without the process (see README.md).
 */
export * from './runtime/runtime.js';
export type { PodNetwork, PodNetworkAttachment } from './network/pod_network.js';
export { CriLogWriter, type CriLogWriterOptions, type CriLogWriterStats } from './logs/cri_log_writer.js';
export { ContainerConfigError, makeContainerConfig, hashContainer, type ContainerConfigInput } from './container/container_config.js';
export type { ObjectLookup } from './container/object_lookup.js';
export type { VolumeMounts } from './volumes/volume_mounts.js';
