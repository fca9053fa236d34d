/**
 * @k8ts/kubelet: the kubelet's logic without the process (see README.md).
 */
export * from './runtime/runtime.js';
export type { PodNetwork, PodNetworkAttachment } from './network/pod_network.js';
export { CriLogWriter, type CriLogWriterOptions, type CriLogWriterStats } from './logs/cri_log_writer.js';
