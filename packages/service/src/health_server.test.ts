import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, test } from 'vitest';
import { serveHealth } from './health_server.js';
import { listen } from './http.js';
import { registerLeaderElectionMetric } from './leader_metric.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function start(options: Omit<Parameters<typeof serveHealth>[0], 'bindAddress' | 'port'>): Promise<string> {
  const server = await serveHealth({ bindAddress: '127.0.0.1', port: await freePort(), ...options });
  if (server === undefined) throw new Error('no server');
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await listen(probe, 0, '127.0.0.1');
  const { port } = probe.address() as AddressInfo;
  await new Promise((done) => probe.close(done));
  return port;
}

describe('serveHealth', () => {
  test('/healthz, /livez and /readyz follow healthy(); the 500 says why', async () => {
    let healthy = false;
    const url = await start({ healthy: () => healthy, unhealthyText: 'not synced' });
    for (const path of ['/healthz', '/livez', '/readyz?verbose']) {
      const response = await fetch(url + path);
      expect([response.status, await response.text()]).toEqual([500, 'not synced']);
    }
    healthy = true;
    const response = await fetch(`${url}/healthz`);
    expect([response.status, await response.text()]).toEqual([200, 'ok']);
  });

  test('/metrics renders the registry; a failing render is a 500; other paths 404', async () => {
    const registry = new Registry();
    let leading = false;
    registerLeaderElectionMetric(registry, 'kube-scheduler', () => leading);
    const url = await start({ healthy: () => true, metrics: registry });
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('leader_election_master_status{name="kube-scheduler"} 0');
    leading = true;
    const response = await fetch(`${url}/metrics`);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    expect(await response.text()).toContain('leader_election_master_status{name="kube-scheduler"} 1');
    expect((await fetch(`${url}/nope`)).status).toBe(404);

    const failing = await start({ healthy: () => true, metrics: { contentType: 'text/plain', metrics: () => Promise.reject(new Error('broken collector')) } });
    expect((await fetch(`${failing}/metrics`)).status).toBe(500);
  });

  test('port 0 serves nothing; a port in use is an error', async () => {
    expect(await serveHealth({ bindAddress: '127.0.0.1', port: 0, healthy: () => true })).toBeUndefined();
    const url = await start({ healthy: () => true });
    const port = Number(new URL(url).port);
    await expect(serveHealth({ bindAddress: '127.0.0.1', port, healthy: () => true })).rejects.toThrow('EADDRINUSE');
  });
});
