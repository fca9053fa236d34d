import { apiErrors, type ConnectSubresource, type ResourceType } from '@k8ts/apimachinery';
import type { ResourceService } from '../resource_service.js';
import { chooseContainer, type PodSpec } from '../streams/choose_container.js';


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
  if (subresource !== 'portforward') chooseContainer(name, spec, query.get('container') ?? '');
  if (!spec.nodeName) throw apiErrors.badRequest(`pod ${name} does not have a host assigned`);
  throw apiErrors.badRequest('Upgrade request required');
}
