import { apiErrors } from '@k8ts/apimachinery';

/** What exec, attach and portforward read of a pod's spec. */
export interface PodSpec {
  readonly nodeName?: string;
  readonly containers?: readonly { readonly name: string }[];
  readonly initContainers?: readonly { readonly name: string }[];
  readonly ephemeralContainers?: readonly { readonly name: string }[];
}

/**
 * The container an exec or attach names (`?container=`), or the only one when none is named; as
 * kube-apiserver refuses it otherwise (400, its words). Shared by the upgrade path and the plain one.
 */
export function chooseContainer(pod: string, spec: PodSpec, asked: string): string {
  const names = (spec.containers ?? []).map((c) => c.name);
  const inits = (spec.initContainers ?? []).map((c) => c.name);
  if (asked === '') {
    if (names.length === 1) return names[0] as string;
    if (names.length === 0) throw apiErrors.badRequest(`a container name must be specified for pod ${pod}`);
    const initText = inits.length > 0 ? ` or one of the init containers: [${inits.join(' ')}]` : '';
    throw apiErrors.badRequest(`a container name must be specified for pod ${pod}, choose one of: [${names.join(' ')}]${initText}`);
  }
  const all = [...names, ...inits, ...(spec.ephemeralContainers ?? []).map((c) => c.name)];
  if (!all.includes(asked)) throw apiErrors.badRequest(`container ${asked} is not valid for pod ${pod}`);
  return asked;
}
