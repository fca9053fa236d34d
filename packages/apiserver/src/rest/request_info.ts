import { apiErrors, findResource, type ResourceType, type SubresourceName } from '@k8ts/apimachinery';

/** What a request path addresses, as kube-apiserver's RequestInfo resolves it. */
export type RequestTarget =
  | { kind: 'non-resource'; path: string }
  | { kind: 'group-discovery'; group: string }
  | { kind: 'version-discovery'; group: string; version: string }
  | {
      kind: 'resource';
      type: ResourceType;
      /** The namespace in the path; undefined for cluster-scoped resources and all-namespace lists. */
      namespace: string | undefined;
      name: string | undefined;
      subresource: SubresourceName | undefined;
    };

/**
 * Resolves `/api/v1/namespaces/ns/pods/name/status` and the like. Unknown group-versions and
 * resources get kube's 404 NotFound Status.
 */
export function parseRequestPath(pathname: string): RequestTarget {
  // Decode first, then split, as Go's URL.Path and RequestInfoFactory do: an encoded slash (%2F)
  // separates segments like a plain one, so a name can never carry a '/' into a store key.
  const parts = decodePath(pathname).split('/').filter((part) => part !== '');
  let group: string;
  let rest: string[];
  if (parts[0] === 'api') {
    if (parts.length === 1) return { kind: 'non-resource', path: '/api' };
    group = '';
    rest = parts.slice(1);
  } else if (parts[0] === 'apis') {
    if (parts.length === 1) return { kind: 'non-resource', path: '/apis' };
    group = parts[1] as string;
    if (parts.length === 2) return { kind: 'group-discovery', group };
    rest = parts.slice(2);
  } else {
    return { kind: 'non-resource', path: pathname };
  }
  const version = rest[0] as string;
  if (rest.length === 1) return { kind: 'version-discovery', group, version };
  let segments = rest.slice(1);
  let namespace: string | undefined;
  // /namespaces/{ns}/{resource}/... — but /namespaces, /namespaces/{name} and a namespace's own
  // subresources (/namespaces/{name}/status|finalize) address namespaces themselves, as kube reads them.
  const namespaceSubresource = segments[0] === 'namespaces' && segments.length === 3 && (segments[2] === 'status' || segments[2] === 'finalize');
  if (segments[0] === 'namespaces' && segments.length >= 3 && !namespaceSubresource) {
    namespace = segments[1];
    segments = segments.slice(2);
  }
  const [resourceName, name, subresource, ...extra] = segments;
  const type = findResource(group, version, resourceName ?? '');
  if (type === undefined || extra.length > 0) throw apiErrors.notFoundPath(pathname);
  if (subresource !== undefined && !type.subresources.includes(subresource as SubresourceName)) throw apiErrors.notFoundPath(pathname);
  if (!type.namespaced && namespace !== undefined) throw apiErrors.notFoundPath(pathname);
  if (type.namespaced && namespace === undefined && name !== undefined) throw apiErrors.notFoundPath(pathname);
  return { kind: 'resource', type, namespace, name, subresource: subresource as SubresourceName | undefined };
}

/**
 * A request target Go's net/http refuses before any handler runs (url.ParseRequestURI fails on a
 * malformed escape such as "%zz"): kube-apiserver never sees it, and the client gets Go's plain-text
 * "400 Bad Request" with the connection closed.
 */
export class MalformedRequestTarget extends Error {
  constructor(readonly target: string) {
    super(`invalid URL escape in ${JSON.stringify(target)}`);
    this.name = 'MalformedRequestTarget';
  }
}

/** Percent-decodes a path as Go's url.PathUnescape does: bytes, whatever UTF-8 they form. */
function decodePath(pathname: string): string {
  if (/%(?![0-9a-fA-F]{2})/.test(pathname)) throw new MalformedRequestTarget(pathname);
  if (!pathname.includes('%')) return pathname;
  const bytes: number[] = [];
  for (let i = 0; i < pathname.length; i++) {
    if (pathname[i] === '%') {
      bytes.push(parseInt(pathname.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(pathname[i] as string, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
