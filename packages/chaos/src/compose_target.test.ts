import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { composeProjectName, containersOf, readContainerPods } from './compose_target.js';
import { DockerEngine, dockerSocket, type InspectedContainer } from './docker_engine.js';

/**
 * The compose target's pure parts. Against a real compose cluster (kill, restart, pause, cut, heal,
 * leaders, pods): test/compose/compose_chaos.test.ts.
 */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'k8ts-compose-target-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function inspected(service: string, hostname: string, overrides: Partial<InspectedContainer['State']> = {}, ip = '172.18.0.9'): InspectedContainer {
  return {
    Id: `${service}-${hostname}-0123456789abcdef`,
    State: { Status: 'running', Running: true, Paused: false, Restarting: false, Pid: 4242, ...overrides },
    Config: { Hostname: hostname, Cmd: ['k8ts-x', '--port', '1234'], Labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': service } },
    NetworkSettings: { Networks: { p_k8ts: { IPAddress: ip } } },
  };
}

describe('containersOf', () => {
  test('names a node container by its hostname (its Node) and every other by its service, with its pid and address', () => {
    const containers = containersOf([inspected('store-2', 'store-2'), inspected('node', '2d233ad28cc9', {}, '172.18.0.13'), inspected('scheduler-1', 'scheduler-1', { Running: false, Status: 'exited', Pid: 0 })]);
    expect(containers.map(({ part, role, pid, ip }) => ({ part, role, pid, ip }))).toEqual([
      { part: 'store-2', role: 'store', pid: 4242, ip: '172.18.0.9' },
      { part: '2d233ad28cc9', role: 'node', pid: 4242, ip: '172.18.0.13' },
      { part: 'scheduler-1', role: 'scheduler', pid: 0, ip: '172.18.0.9' },
    ]);
  });

  test('refuses two containers that would be the same part (a scaled service other than node)', () => {
    expect(() => containersOf([inspected('apiserver-1', 'a'), inspected('apiserver-1', 'b')])).toThrow(/two containers are the part apiserver-1/);
  });
});

describe('composeProjectName', () => {
  test("is the folder's base name as compose makes it: lower case, only a-z 0-9 _ -, not starting with _ or -", () => {
    expect(composeProjectName('/work/main')).toBe('main');
    expect(composeProjectName('/home/me/My K8ts.Checkout')).toBe('myk8tscheckout');
    expect(composeProjectName('/srv/_k8ts-2')).toBe('k8ts-2');
  });
});

describe('readContainerPods', () => {
  /** A node container's root as /proc/<pid>/root shows it: the runtime's records and the container's own /proc. */
  function record(id: string, pod: string, state: string, pid: number): void {
    const runtime = join(dir, 'var/lib/k8ts-kubelet/runtime');
    mkdirSync(join(runtime, 'containers', id), { recursive: true });
    mkdirSync(join(runtime, 'sandboxes', `sandbox-${id}`), { recursive: true });
    writeFileSync(join(runtime, 'containers', id, 'container.json'), JSON.stringify({ id, sandboxId: `sandbox-${id}`, state, pid: { pid, startTime: '1' } }));
    const [namespace, name] = pod.split('/');
    writeFileSync(join(runtime, 'sandboxes', `sandbox-${id}`, 'sandbox.json'), JSON.stringify({ config: { name, namespace } }));
  }
  function processInContainer(pid: number, state: string): void {
    mkdirSync(join(dir, 'proc', String(pid)), { recursive: true });
    writeFileSync(join(dir, 'proc', String(pid), 'stat'), `${pid} (node) ${state} 1 1 1`);
  }

  test("lists a pod only while its process lives in the container's own /proc (pids there are the container's, not the host's)", async () => {
    record('a', 'web/alive', 'running', 114);
    processInContainer(114, 'S');
    record('b', 'web/gone', 'running', 115); // no /proc/115 in the container: the process is gone
    record('c', 'web/zombie', 'running', 116);
    processInContainer(116, 'Z');
    record('d', 'web/exited', 'exited', 117);
    processInContainer(117, 'S');
    expect(await readContainerPods(dir, '/var/lib/k8ts-kubelet')).toEqual(['web/alive']);
  });

  test('a node container with no runtime yet runs no pods', async () => {
    expect(await readContainerPods(dir, '/var/lib/k8ts-kubelet')).toEqual([]);
  });
});

describe('DockerEngine', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((done) => (server === undefined ? done(undefined) : server.close(done)));
    server = undefined;
  });

  async function fakeEngine(answer: (method: string, url: string) => { status: number; body: unknown }): Promise<DockerEngine> {
    const socket = join(dir, 'docker.sock');
    server = createServer((request, response) => {
      const { status, body } = answer(request.method ?? '', request.url ?? '');
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(body === undefined ? '' : JSON.stringify(body));
    });
    await new Promise<void>((done) => server?.listen(socket, done));
    return new DockerEngine(socket);
  }

  test("lists by label filter, and an engine's refusal is an error carrying its message", async () => {
    const seen: string[] = [];
    const engine = await fakeEngine((method, url) => {
      seen.push(`${method} ${decodeURIComponent(url)}`);
      if (url.includes('/pause')) return { status: 500, body: { message: 'Cannot pause container x: OCI runtime pause failed: unable to freeze: unknown' } };
      return url.startsWith('/containers/json') ? { status: 200, body: [{ Id: 'x', Labels: {}, State: 'running' }] } : { status: 204, body: undefined };
    });
    expect(await engine.list(['com.docker.compose.project=p'])).toEqual([{ Id: 'x', Labels: {}, State: 'running' }]);
    await engine.kill('x', 'SIGKILL');
    await expect(engine.pause('x')).rejects.toThrow(/500 Cannot pause container x: .*unable to freeze/);
    expect(seen).toEqual(['GET /containers/json?all=true&filters={"label":["com.docker.compose.project=p"]}', 'POST /containers/x/kill?signal=SIGKILL', 'POST /containers/x/pause']);
  });

  test('the socket is DOCKER_HOST when it names a unix socket; a remote engine is refused (its /proc is not here)', () => {
    expect(dockerSocket({})).toBe('/var/run/docker.sock');
    expect(dockerSocket({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toBe('/run/user/1000/docker.sock');
    expect(() => dockerSocket({ DOCKER_HOST: 'tcp://10.0.0.1:2376' })).toThrow(/needs the engine on this machine/);
  });
});
