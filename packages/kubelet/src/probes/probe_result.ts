/**
 * What one run of a probe handler says, as upstream's probe.Result: Warning counts as a success
 * (with an event), Unknown is an error whose result the worker throws away.
 */
export type ProbeOutcome =
  | { readonly result: 'Success'; readonly output: string }
  | { readonly result: 'Warning'; readonly output: string }
  | { readonly result: 'Failure'; readonly output: string };

/** A probe that could not be run at all (a bad port, the runtime failing): its result is unknown. */
export class ProbeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeError';
  }
}

export const success = (output = ''): ProbeOutcome => ({ result: 'Success', output });
export const failure = (output: string): ProbeOutcome => ({ result: 'Failure', output });

/** A Node socket error as Go's net package words it (`connect: connection refused`), for probe messages. */
export function goNetError(error: unknown, address: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return `dial tcp ${address}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${address}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${address}: connect: network is unreachable`;
    case 'ECONNRESET':
      return 'EOF';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${address.replace(/:\d+$/, '')}: no such host`;
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/** host:port, bracketing IPv6 addresses. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Seconds as Go prints a time.Duration ("1s", "2m30s"). */
export function goDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes < 60) return `${minutes}m${rest}s`;
  return `${Math.floor(minutes / 60)}h${minutes % 60}m${rest}s`;
}
