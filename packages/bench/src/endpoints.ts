/**
 * `--endpoints` as etcdctl takes it (host:port or http://host:port, comma-separated), limited to
 * loopback addresses: this load generator is for stores on the machine it runs on.
 */
export function parseEndpoints(list: string): string[] {
  const endpoints = list
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map(parseEndpoint);
  if (endpoints.length === 0) throw new RangeError('--endpoints is empty');
  return endpoints;
}

export function parseEndpoint(text: string): string {
  if (text.startsWith('https://')) throw new RangeError(`${text}: TLS endpoints are not supported`);
  const hostPort = text.replace(/^http:\/\//, '').replace(/\/+$/, '');
  const match = /^(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(hostPort);
  if (!match) throw new RangeError(`${text}: expected host:port`);
  const host = match[1] ?? '';
  const port = Number(match[2]);
  if (!(port > 0 && port < 65_536)) throw new RangeError(`${text}: port out of range`);
  if (!isLoopback(host)) throw new RangeError(`${text}: only loopback endpoints (127.0.0.0/8, ::1, localhost) are allowed`);
  return `${host}:${port}`;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '[::1]') return true;
  const octets = host.split('.');
  return octets.length === 4 && octets[0] === '127' && octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255);
}
