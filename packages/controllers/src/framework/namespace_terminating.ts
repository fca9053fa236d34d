import { ApiError } from '@k8ts/apimachinery';

/**
 * A create refused because its namespace is being deleted (upstream: Forbidden with the
 * NamespaceTerminating status cause, which k8ts' apiserver sends too). Controllers drop such work
 * instead of retrying: the namespace controller is emptying the namespace. A Forbidden without the
 * cause is recognised by its message, for a server that leaves the cause out.
 */
export function isNamespaceTerminating(error: unknown): boolean {
  if (!(error instanceof ApiError) || error.reason !== 'Forbidden') return false;
  if ((error.status.details?.causes ?? []).some((cause) => cause.reason === 'NamespaceTerminating')) return true;
  return error.message.includes('because it is being terminated');
}
