/**
 * Image references as the Docker/containerd reference grammar normalises them: `busybox` is
 * `docker.io/library/busybox:latest`, `k8ts/http-echo:1` is `docker.io/k8ts/http-echo:1`, a digest
 * (`nginx@sha256:…`) is kept. The catalog is keyed by the short repository (`busybox`, `k8ts/http-echo`).
 */

export interface ImageReference {
  /** As containerd names it: `docker.io/library/busybox:1.36` or `docker.io/library/nginx@sha256:…`. */
  readonly fullName: string;
  /** `docker.io/library/busybox` */
  readonly repository: string;
  /** The catalog's key: the repository without `docker.io/` and `library/`. */
  readonly shortName: string;
  readonly tag?: string;
  readonly digest?: string;
}

const DEFAULT_DOMAIN = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;

export class InvalidReferenceError extends Error {}

/** Parses and normalises `image`; throws InvalidReferenceError with the reference library's wording. */
export function parseImageReference(image: string): ImageReference {
  if (image === '') throw new InvalidReferenceError('invalid reference format');
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidReferenceError('invalid reference format');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReferenceError('invalid reference format');
  }
  const parts = rest.split('/');
  let domain = DEFAULT_DOMAIN;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!DOMAIN.test(first)) throw new InvalidReferenceError('invalid reference format');
    domain = first;
    parts.shift();
  }
  if (parts.length === 0) throw new InvalidReferenceError('invalid reference format');
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      if (COMPONENT.test(part.toLowerCase())) {
        throw new InvalidReferenceError('invalid reference format: repository name must be lowercase');
      }
      throw new InvalidReferenceError('invalid reference format');
    }
  }
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift('library');
  const path = parts.join('/');
  const repository = `${domain}/${path}`;
  const shortName = domain === DEFAULT_DOMAIN ? path.replace(/^library\//, '') : repository;
  if (tag === undefined && digest === undefined) tag = 'latest';
  const fullName = `${repository}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  return { fullName, repository, shortName, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}
