import { apiErrors, type ConnectSubresource, type ResourceType } from '@k8ts/apimachinery';
import type { ResourceService } from '../resource_service.js';

interface PodSpec {
  readonly nodeName?: string;
  readonly containers?: readonly { readonly name: string }[];
  readonly initContainers?: readonly { readonly name: string }[];
  readonly ephemeralContainers?: readonly { readonly name: string }[];
}

/**
 * pods/exec, attach and portforward asked without an upgrade (streams/ serves the upgrades). As
 * kube-apiserver: the pod is looked up and checked first (404 NotFound, the container, a host),
 * and only then its proxy refuses the plain request with 400 "Upgrade request required".
 */
export async function refusePlainConnect(
  service: ResourceService,
  pods: ResourceType,
  namespace: string,
  name: string,
  subresource: ConnectSubresource,
  query: URLSearchParams,
): Promise<never> {
  const pod = await service.get(pods, namespace, name);
  const spec = (pod['spec'] ?? {}) as PodSpec;
  if (subresource !== 'portforward') checkContainer(name, spec, query.get('container') ?? '');
  if (!spec.nodeName) throw apiErrors.badRequest(`pod ${name} does not have a host assigned`);
  throw apiErrors.badRequest('Upgrade request required');
}

/** The container check of the upgrade path (streams/pod_stream_handler.ts), in the same words. */
function checkContainer(pod: string, spec: PodSpec, asked: string): void {
  const names = (spec.containers ?? []).map((c) => c.name);
  const inits = (spec.initContainers ?? []).map((c) => c.name);
  if (asked === '') {
    if (names.length === 1) return;
    if (names.length === 0) throw apiErrors.badRequest(`a container name must be specified for pod ${pod}`);
    const initText = inits.length > 0 ? ` or one of the init containers: [${inits.join(' ')}]` : '';
    throw apiErrors.badRequest(`a container name must be specified for pod ${pod}, choose one of: [${names.join(' ')}]${initText}`);
  }
  const all = [...names, ...inits, ...(spec.ephemeralContainers ?? []).map((c) => c.name)];
  if (!all.includes(asked)) throw apiErrors.badRequest(`container ${asked} is not valid for pod ${pod}`);
}
