/**
 * Reading back the labels makeContainerConfig puts on containers (upstream's kuberuntime labels): a
 * restarted kubelet identifies what it finds in the runtime by them — which pod, which container of
 * its spec — so it adopts instead of starting a second copy.
 */
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from '../container/container_config.js';
import type { ContainerStatus } from '../runtime/runtime.js';

/** The pod uid a runtime container belongs to. */
export function podUidOf(container: ContainerStatus): string | undefined {
  return container.labels[LABEL_POD_UID];
}

/** The spec container a runtime container was made for (the label, else the runtime's name). */
export function containerNameOf(container: ContainerStatus): string {
  return container.labels[LABEL_CONTAINER_NAME] ?? container.name;
}
