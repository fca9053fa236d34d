import http from 'node:http';
import https from 'node:https';
import type { HTTPHeader } from 'kubernetes-types/core/v1.js';
import { failure, goNetError, joinHostPort, success, type ProbeOutcome } from './probe_result.js';

/**
 * An httpGet probe, as upstream's prober: GET with `User-Agent: kube-probe/<version>` and
 * `Accept: *\/*` unless the probe sets them, no keep-alive, TLS unverified; 200–399 passes (a redirect
 * to another host is not followed and passes with a warning), anything else fails with
 * `HTTP probe failed with statuscode: N`; a request that cannot complete in time fails with Go's
 * wording of the error.
 */

export const PROBE_USER_AGENT = 'kube-probe/1.32';
const MAX_BODY_BYTES = 10 * 1024;
const MAX_REDIRECTS = 10;

export interface HttpProbeSpec {
  readonly scheme: string;
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly headers: readonly HTTPHeader[];
  readonly timeoutSeconds: number;
}

export async function httpProbe(spec: HttpProbeSpec): Promise<ProbeOutcome> {
  let url = probeURL(spec);
  const headers = requestHeaders(spec.headers);
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  for (let redirects = 0; ; redirects++) {
    let response: HttpResponse;
    try {
      response = await get(url, headers, deadline);
    } catch (error) {
      return failure(`Get ${JSON.stringify(url.href)}: ${error instanceof TimeoutError ? error.message : goNetError(error, url.host)}`);
    }
    const { status, body, location } = response;
    if (status >= 300 && status < 400 && location !== undefined && redirects < MAX_REDIRECTS) {
      const next = new URL(location, url);
      if (next.hostname === url.hostname) {
        url = next;
        continue;
      }
    }
    if (status >= 200 && status < 400) {
      if (status >= 300) return { result: 'Warning', output: `Probe terminated redirects, Response body: ${body}` };
      return success(body);
    }
    return failure(`HTTP probe failed with statuscode: ${status}`);
  }
}

function probeURL(spec: HttpProbeSpec): URL {
  const scheme = spec.scheme.toLowerCase() || 'http';
  const path = spec.path === '' ? '/' : spec.path.startsWith('/') ? spec.path : `/${spec.path}`;
  return new URL(`${scheme}://${joinHostPort(spec.host, spec.port)}${path}`);
}

function requestHeaders(probeHeaders: readonly HTTPHeader[]): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const { name, value } of probeHeaders) {
    const key = canonicalHeader(name);
    (headers[key] ??= []).push(value);
  }
  if (headers['User-Agent'] === undefined) headers['User-Agent'] = [PROBE_USER_AGENT];
  if (headers['Accept'] === undefined) headers['Accept'] = ['*/*'];
  else if (headers['Accept'].every((value) => value === '')) delete headers['Accept'];
  return headers;
}

function canonicalHeader(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('-');
}

interface HttpResponse {
  readonly status: number;
  readonly body: string;
  readonly location?: string;
}

class TimeoutError extends Error {}

function get(url: URL, headers: Record<string, string[]>, deadline: number): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const module = url.protocol === 'https:' ? https : http;
    const hostHeader = headers['Host']?.[0];
    const outgoing: Record<string, string | string[]> = { ...headers };
    delete outgoing['Host'];
    const request = module.request(url, {
      method: 'GET',
      agent: false,
      headers: { ...outgoing, Connection: 'close', ...(hostHeader !== undefined ? { Host: hostHeader } : {}) },
      ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
    });
    let awaitingHeaders = true;
    const timer = setTimeout(
      () => {
        const message = awaitingHeaders
          ? 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
          : 'context deadline exceeded (Client.Timeout or context cancellation while reading body)';
        request.destroy(new TimeoutError(message));
      },
      Math.max(0, deadline - Date.now()),
    );
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.on('response', (response) => {
      awaitingHeaders = false;
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < MAX_BODY_BYTES) chunks.push(chunk.subarray(0, MAX_BODY_BYTES - size));
        size += chunk.length;
        if (size >= MAX_BODY_BYTES) finish();
      });
      response.on('end', () => finish());
      response.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        const location = response.headers.location;
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(location !== undefined ? { location } : {}) });
        request.destroy();
      };
    });
    request.end();
  });
}
