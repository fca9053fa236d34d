/** The version the node agent reports as nodeInfo.kubeletVersion: the Kubernetes API it follows, marked as k8ts'. */
export const KUBELET_VERSION = 'v1.32.0-k8ts';

/** nodeInfo.containerRuntimeVersion as upstream writes it: `<runtimeName>://<runtimeVersion>`. */
export function containerRuntimeVersion(version: { readonly runtimeName: string; readonly runtimeVersion: string }): string {
  return `${version.runtimeName}://${version.runtimeVersion}`;
}
