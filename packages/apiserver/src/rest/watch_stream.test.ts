import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findResource, type ResourceType } from '@k8ts/apimachinery';
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdError } from '../etcd_client.js';
import type { ResourceWatchCache } from '../watch_cache.js';
import { serveWatch } from './watch_stream.js';

/**
 * A REST watch when the store fails underneath it: the 200 is already sent, so the failure must
 * arrive as one ERROR event with a well-formed Status (not an event without an object, not a
 * rejection that would try to send a second status line), and the response ends.
 */
const configMaps = findResource('', 'v1', 'configmaps') as ResourceType;
let server: Server | undefined;
afterEach(() => server?.close());

async function watchBody(cache: ResourceWatchCache): Promise<{ body: string; rejected: unknown }> {
  let rejected: unknown;
  server = createServer((req, res) => {
    serveWatch(req, res, configMaps, cache, { bookmarks: false, bookmarkIntervalMs: 60_000, render: (object) => object }).catch((error: unknown) => (rejected = error));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const body = await new Promise<string>((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: '/api/v1/configmaps?watch=1' }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve(text));
    })
      .on('error', reject)
      .end();
  });
  return { body, rejected };
}

describe('REST watch when the store fails', () => {
  it('sends one ERROR event with a 503/504 Status for a store error and ends', async () => {
    const cache = { watch: () => Promise.reject(new EtcdError(14, 'etcdserver: request timed out')) } as unknown as ResourceWatchCache;
    const { body, rejected } = await watchBody(cache);
    const events = body.trim().split('\n').map((line) => JSON.parse(line) as { type: string; object: { kind: string; code: number; reason: string } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status' } });
    // The store error's own mapping (http_io.ts statusOf) decides which of kube's two it is.
    expect([503, 504]).toContain(events[0]?.object.code);
    expect(rejected).toBeUndefined();
  });

  it('sends a 500 Status for an error that is neither an ApiError nor a store error', async () => {
    const cache = { watch: () => Promise.reject(new TypeError('boom')) } as unknown as ResourceWatchCache;
    const { body } = await watchBody(cache);
    expect(JSON.parse(body.trim())).toMatchObject({ type: 'ERROR', object: { code: 500, reason: 'InternalError' } });
  });
});
