import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeError, type ContainerConfig, type ContainerStatus } from '../runtime.js';
import { ProcessRuntime, type ProcessRuntimeOptions } from './process_runtime.js';
import { containerConfig, hostNetworkStandIn, sandboxConfig, until } from './test_support.js';

const isRoot = process.getuid?.() === 0;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8ts-process-runtime-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A runtime over `rootDir`; at the end of the test its containers are removed (stopped). */
function runtimeAt(rootDir: string, options: Partial<ProcessRuntimeOptions> = {}): ProcessRuntime {
  const runtime = new ProcessRuntime({
    rootDir,
    network: hostNetworkStandIn,
    logMaxSizeBytes: 10 * 1024 * 1024,
    logMaxFiles: 5,
    logger: pino({ level: 'silent' }),
    ...options,
  });
  cleanups.push(async () => {
    for (const container of await runtime.listContainers().catch(() => [])) await runtime.removeContainer(container.id).catch(() => {});
    await runtime.close();
  });
  return runtime;
}

function exited(runtime: ProcessRuntime, id: string): Promise<ContainerStatus> {
  return until(`container ${id} to exit`, async () => {
    const status = await runtime.containerStatus(id);
    return status.state === 'exited' ? status : undefined;
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z';
  } catch {
    return false;
  }
}

/** The pod with one container: sandbox, create, start. */
async function runContainer(runtime: ProcessRuntime, root: string, overrides: Partial<ContainerConfig> & { name: string }) {
  const logDirectory = join(root, 'pods', `default_${overrides.name}_uid`);
  const sandboxId = await runtime.runPodSandbox(sandboxConfig(overrides.name, logDirectory));
  const config = containerConfig(logDirectory, overrides);
  const id = await runtime.createContainer(sandboxId, config);
  await runtime.startContainer(id);
  return { sandboxId, id, config };
}

function logLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((line) => line !== '');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('ProcessRuntime images', () => {
  it('resolves catalog images by any tag or digest and rejects unknown ones as containerd does', async () => {
    const runtime = runtimeAt(tempDir());
    expect(await runtime.pullImage('busybox:1.36')).toMatch(/^docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/);
    expect(await runtime.pullImage('docker.io/library/busybox:latest')).toBe(await runtime.pullImage('busybox'));
    expect(await runtime.pullImage('nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef')).toMatch(/^docker\.io\/library\/nginx@sha256:/);
    expect(await runtime.pullImage('k8ts/http-echo:v1')).toMatch(/^docker\.io\/k8ts\/http-echo@sha256:/);
    await expect(runtime.pullImage('nosuch')).rejects.toMatchObject({
      code: 'ImageNotFound',
      message: 'failed to pull and unpack image "docker.io/library/nosuch:latest": failed to resolve reference "docker.io/library/nosuch:latest": docker.io/library/nosuch:latest: not found',
    });
    await expect(runtime.pullImage('BusyBox')).rejects.toMatchObject({ code: 'InvalidImageName' });
    const images = await runtime.listImages();
    expect(images.find((i) => i.names.includes('docker.io/library/busybox:1.36'))?.sizeBytes).toBeGreaterThan(0);
  });

  it('takes extra catalog entries from --image-catalog files', async () => {
    const dir = tempDir();
    const file = join(dir, 'catalog.json');
    writeFileSync(file, JSON.stringify({ images: [{ name: 'example.com/team/tool', entrypoint: ['/bin/sh', '-c'], cmd: ['echo from-extra-catalog'] }] }));
    const runtime = runtimeAt(dir, { catalog: file });
    const { id, config } = await runContainer(runtime, dir, { name: 'extra', image: 'example.com/team/tool:2' });
    expect(await exited(runtime, id)).toMatchObject({ exitCode: 0, image: 'example.com/team/tool:2' });
    expect(logLines(config.logPath)[0]).toMatch(/ stdout F from-extra-catalog$/);
  });
});

describe('ProcessRuntime containers', () => {
  it('runs a command to completion with its output in CRI log format', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const seen: string[] = [];
    runtime.onContainerExit((id) => seen.push(id));
    const { id, config } = await runContainer(runtime, root, {
      name: 'echo',
      command: ['sh', '-c', 'echo hello $GREETING; echo oops >&2'],
      env: [{ name: 'GREETING', value: 'world' }],
    });
    const status = await exited(runtime, id);
    expect(status).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed', image: 'docker.io/library/busybox:latest' });
    expect(status.imageRef).toMatch(/^docker\.io\/library\/busybox@sha256:/);
    expect(status.finishedAt!.getTime()).toBeGreaterThanOrEqual(status.startedAt!.getTime() - 1000);
    expect(seen).toContain(id);
    const lines = logLines(config.logPath);
    expect(lines).toHaveLength(2);
    const stdout = lines.find((line) => line.includes(' stdout '));
    expect(stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z stdout F hello world$/);
    expect(lines.find((line) => line.includes(' stderr '))).toMatch(/ stderr F oops$/);
  });

  it('applies the image entrypoint and default command by Kubernetes rules', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const port = await freePort();
    // args only: the entrypoint (node + http-echo) with these args instead of the image's cmd.
    const { id } = await runContainer(runtime, root, {
      name: 'echo-server',
      image: 'k8ts/http-echo',
      args: [`-listen=:${port}`],
      env: [
        { name: 'POD_NAME', value: 'echo-server' },
        { name: 'POD_NAMESPACE', value: 'default' },
      ],
    });
    const body = await until('http-echo to answer', async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/`)).json();
      } catch {
        return undefined;
      }
    });
    expect(body).toMatchObject({ pod: 'echo-server', namespace: 'default' });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await fetch(`http://127.0.0.1:${port}/fail-healthz`, { method: 'POST' });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(500);
    await runtime.stopContainer(id, 30);
    expect(await runtime.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed' });
  });

  it.each([
    { mode: 'in its mount namespace', mountNamespaces: true },
    { mode: 'without mount namespaces', mountNamespaces: false },
  ].filter((c) => isRoot || !c.mountNamespaces))('nginx serves its default page, or the volume at /usr/share/nginx/html $mode', async ({ mountNamespaces }) => {
    const root = tempDir();
    const runtime = runtimeAt(root, { mountNamespaces });
    const html = join(root, 'html');
    mkdirSync(html);
    writeFileSync(join(html, 'index.html'), '<p>from the volume</p>');
    const [plainPort, volumePort] = [await freePort(), await freePort()];
    await runContainer(runtime, root, { name: 'plain', image: 'nginx:1.27', env: [{ name: 'NGINX_PORT', value: String(plainPort) }] });
    await runContainer(runtime, root, {
      name: 'served',
      image: 'nginx',
      env: [{ name: 'NGINX_PORT', value: String(volumePort) }],
      mounts: [{ hostPath: html, containerPath: '/usr/share/nginx/html', readOnly: true }],
    });
    const page = (port: number) =>
      until(`nginx on ${port}`, async () => {
        try {
          return await (await fetch(`http://127.0.0.1:${port}/`)).text();
        } catch {
          return undefined;
        }
      });
    expect(await page(plainPort)).toContain('Welcome to nginx!');
    expect(await page(volumePort)).toBe('<p>from the volume</p>');
  });

  it('reports a non-zero exit as Error with its code', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const { id } = await runContainer(runtime, root, { name: 'fails', command: ['sh', '-c', 'exit 3'] });
    expect(await exited(runtime, id)).toMatchObject({ exitCode: 3, reason: 'Error' });
  });

  it('fails a command that does not exist with exit code 128 and runc’s message', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const logDirectory = join(root, 'pods', 'default_missing_uid');
    const sandboxId = await runtime.runPodSandbox(sandboxConfig('missing', logDirectory));
    const id = await runtime.createContainer(sandboxId, containerConfig(logDirectory, { name: 'missing', command: ['no-such-program'] }));
    const failure = await runtime.startContainer(id).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RuntimeError);
    expect(failure).toMatchObject({ code: 'CannotRun' });
    const status = await runtime.containerStatus(id);
    expect(status).toMatchObject({ state: 'exited', exitCode: 128, reason: 'ContainerCannotRun' });
    expect(status.message).toContain('exec: "no-such-program": executable file not found in $PATH');
  });

  it('stops with SIGTERM, then SIGKILL after the timeout when the container ignores it', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const { id, config } = await runContainer(runtime, root, {
      name: 'stubborn',
      command: ['sh', '-c', 'trap "echo got TERM" TERM; echo ready; while :; do sleep 0.1; done'],
    });
    await until('the trap to be set', () => existsSync(config.logPath) && readFileSync(config.logPath, 'utf8').includes('ready'));
    await runtime.stopContainer(id, 1);
    const status = await runtime.containerStatus(id);
    expect(status).toMatchObject({ state: 'exited', exitCode: 137, reason: 'Error' });
    await until('the trap output in the log', () => readFileSync(config.logPath, 'utf8').includes('got TERM'));
    // Stopping a stopped container is a no-op.
    await runtime.stopContainer(id, 1);
  });

  it('stops a container that honours SIGTERM within the timeout (k8ts/pause)', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const { id } = await runContainer(runtime, root, { name: 'pause', image: 'k8ts/pause:3.9' });
    expect((await runtime.containerStatus(id)).state).toBe('running');
    // Its trap is set once it sleeps (a SIGTERM before that kills the shell: 143, as for any program).
    const pid = Number(readFileSync(join(root, 'runtime', 'containers', id, 'pid'), 'utf8'));
    await until('pause to sleep', () => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() !== '');
    await runtime.stopContainer(id, 60);
    expect(await runtime.containerStatus(id)).toMatchObject({ exitCode: 0, reason: 'Completed' });
  });

  it('kills the whole process group: a child of the container dies with it', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const childFile = join(root, 'child.pid');
    const { id } = await runContainer(runtime, root, { name: 'parent', command: ['sh', '-c', `sleep 1000 & echo $! > ${childFile}; wait`] });
    const child = Number(await until('the child pid', () => (existsSync(childFile) ? readFileSync(childFile, 'utf8').trim() || undefined : undefined)));
    expect(pidAlive(child)).toBe(true);
    await runtime.stopContainer(id, 30);
    await until('the child to die', () => !pidAlive(child));
  });

  it.runIf(isRoot)('with cgroups, kills a process that left the group but not the cgroup', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const childFile = join(root, 'escaped.pid');
    const { id } = await runContainer(runtime, root, { name: 'escape', command: ['sh', '-c', `setsid sleep 1000 & echo $! > ${childFile}; wait`] });
    const child = Number(await until('the child pid', () => (existsSync(childFile) ? readFileSync(childFile, 'utf8').trim() || undefined : undefined)));
    await runtime.stopContainer(id, 30);
    await until('the escaped child to die', () => !pidAlive(child));
  });

  it.runIf(isRoot && existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes'))('sets the cgroup v1 limits from the container’s resources', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const { id } = await runContainer(runtime, root, {
      name: 'limited',
      image: 'k8ts/pause',
      resources: { cpuRequestMillis: 100, cpuLimitMillis: 250, memoryRequestBytes: 32 << 20, memoryLimitBytes: 64 << 20 },
    });
    const pid = readFileSync(join(root, 'runtime', 'containers', id, 'pid'), 'utf8').trim();
    const cgroupOf = (controller: string) => readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((line) => line.split(':')[1]?.split(',').includes(controller))?.split(':')[2];
    expect(cgroupOf('memory')).toBe(`/k8ts/${id}`);
    expect(readFileSync(`/sys/fs/cgroup/memory/k8ts/${id}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(64 << 20));
    expect(readFileSync(`/sys/fs/cgroup/cpu/k8ts/${id}/cpu.cfs_quota_us`, 'utf8').trim()).toBe('25000');
    expect(readFileSync(`/sys/fs/cgroup/cpu/k8ts/${id}/cpu.cfs_period_us`, 'utf8').trim()).toBe('100000');
    expect(readFileSync(`/sys/fs/cgroup/cpu/k8ts/${id}/cpu.shares`, 'utf8').trim()).toBe('102');
    await runtime.removeContainer(id);
    expect(existsSync(`/sys/fs/cgroup/memory/k8ts/${id}`)).toBe(false);
  });

  it.each([
    { how: 'the cgroup memory limit (kernel OOM killer)', cgroups: true },
    { how: 'the limit measured from /proc, without cgroups', cgroups: false },
  ].filter((c) => isRoot || !c.cgroups))('reports OOMKilled (137) over $how', async ({ cgroups }) => {
    const root = tempDir();
    const runtime = runtimeAt(root, cgroups ? {} : { cgroupParent: false });
    const { id } = await runContainer(runtime, root, {
      name: 'hog',
      image: 'k8ts/stress',
      args: ['--memory', '300Mi'],
      resources: { memoryLimitBytes: 96 * 1024 * 1024 },
    });
    expect(await exited(runtime, id)).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
  });

  it('reports usage in containerStats', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const { id } = await runContainer(runtime, root, { name: 'busy', image: 'k8ts/stress', args: ['--cpu', '200m', '--memory', '20Mi'] });
    const stats = await until('memory usage to show', async () => {
      const s = await runtime.containerStats(id);
      return s.memoryWorkingSetBytes > 20 * 1024 * 1024 ? s : undefined;
    });
    expect(stats.id).toBe(id);
    await until('cpu usage to show', async () => ((await runtime.containerStats(id)).cpuUsageNanoCores > 0 ? true : undefined));
  });

  it.runIf(isRoot)('binds mounts in a mount namespace of its own, read-only where asked', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const volume = join(root, 'volume');
    mkdirSync(volume);
    writeFileSync(join(volume, 'key'), 'value-from-volume');
    const inside = join(root, 'not-on-host', 'config');
    const { id, config } = await runContainer(runtime, root, {
      name: 'mounts',
      command: ['sh', '-c', `cat ${inside}/key; echo; touch ${inside}/new && echo writable || echo read-only; pwd`],
      mounts: [{ hostPath: volume, containerPath: inside, readOnly: true }],
      workingDir: join(root, 'work'),
    });
    expect(await exited(runtime, id)).toMatchObject({ exitCode: 0 });
    const text = logLines(config.logPath).filter((line) => line.includes(' stdout ')).map((line) => line.split(' ').slice(3).join(' '));
    expect(text).toEqual(['value-from-volume', 'read-only', join(root, 'work')]);
    expect(existsSync(join(volume, 'new'))).toBe(false);
  });

  it('without mount namespaces, gives volume paths in the environment', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root, { mountNamespaces: false });
    const volume = join(root, 'html');
    mkdirSync(volume);
    const { id, config } = await runContainer(runtime, root, {
      name: 'env-mounts',
      command: ['sh', '-c', 'echo $K8TS_MOUNT_USR_SHARE_NGINX_HTML'],
      mounts: [{ hostPath: volume, containerPath: '/usr/share/nginx/html', readOnly: false }],
    });
    await exited(runtime, id);
    expect(logLines(config.logPath)[0]).toMatch(new RegExp(` stdout F ${volume}$`));
  });
});

describe('ProcessRuntime exec, attach and port-forward', () => {
  it('execs with the container’s environment and returns the exit code', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const { id } = await runContainer(runtime, root, { name: 'target', image: 'k8ts/pause', env: [{ name: 'COLOR', value: 'blue' }] });
    const result = await runtime.execSync(id, ['sh', '-c', 'echo color=$COLOR; echo err >&2; exit 4'], 30);
    expect(result.exitCode).toBe(4);
    expect(Buffer.from(result.stdout).toString()).toBe('color=blue\n');
    expect(Buffer.from(result.stderr).toString()).toBe('err\n');
    await expect(runtime.execSync(id, ['no-such-program'], 30)).rejects.toMatchObject({ code: 'CannotRun' });

    // Streaming exec with stdin.
    const output: Buffer[] = [];
    const closed = new AbortController();
    async function* input() {
      yield Buffer.from('line one\n');
      yield Buffer.from('line two\n');
    }
    const code = await runtime.exec(id, ['cat'], { stdin: input(), stdout: (c) => output.push(Buffer.from(c)), tty: false, closed: closed.signal });
    expect(code).toBe(0);
    expect(Buffer.concat(output).toString()).toBe('line one\nline two\n');

    // With a tty, the command gets a terminal; stderr comes with stdout.
    const terminal: Buffer[] = [];
    const ttyCode = await runtime.exec(id, ['sh', '-c', 'test -t 0 && test -t 1 && echo on-a-tty; echo err >&2; exit 2'], {
      stdout: (c) => terminal.push(Buffer.from(c)),
      tty: true,
      closed: closed.signal,
    });
    expect(ttyCode).toBe(2);
    expect(Buffer.concat(terminal).toString()).toBe('on-a-tty\r\nerr\r\n');

    await runtime.stopContainer(id, 30);
    await expect(runtime.execSync(id, ['true'], 30)).rejects.toMatchObject({
      code: 'NotRunning',
      message: 'failed to exec in container: container is in CONTAINER_EXITED state',
    });
  });

  it('attaches to a container’s stdin and output', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const { id } = await runContainer(runtime, root, { name: 'reader', command: ['sh', '-c', 'read line; echo "got $line"'], stdin: true });
    const seen: Buffer[] = [];
    async function* input() {
      yield Buffer.from('hello-stdin\n');
    }
    await runtime.attach(id, { stdin: input(), stdout: (c) => seen.push(Buffer.from(c)), tty: false, closed: new AbortController().signal });
    expect(Buffer.concat(seen).toString()).toBe('got hello-stdin\n');
    expect(await exited(runtime, id)).toMatchObject({ exitCode: 0 });
  });

  it('attaches to the output of a running container', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const go = join(root, 'go');
    const { id } = await runContainer(runtime, root, {
      name: 'chatty',
      command: ['sh', '-c', `while [ ! -e ${go} ]; do sleep 0.05; done; echo after-attach; exit 0`],
    });
    const seen: Buffer[] = [];
    const closed = new AbortController();
    const attached = runtime.attach(id, { stdout: (c) => seen.push(Buffer.from(c)), tty: false, closed: closed.signal });
    writeFileSync(go, '');
    await attached;
    expect(Buffer.concat(seen).toString()).toContain('after-attach');
  });

  it('forwards a port of the pod', async () => {
    const root = tempDir();
    const runtime = runtimeAt(root);
    const port = await freePort();
    const { sandboxId } = await runContainer(runtime, root, { name: 'web', image: 'k8ts/http-echo', args: [`--port=${port}`] });
    await until('http-echo to listen', async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok || undefined;
      } catch {
        return undefined;
      }
    });
    const received: Buffer[] = [];
    const closed = new AbortController();
    let ended!: () => void;
    const done = new Promise<void>((resolve) => (ended = resolve));
    async function* input() {
      yield Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await done;
    }
    await runtime.portForward(sandboxId, port, { input: input(), write: (c) => received.push(Buffer.from(c)), end: () => ended(), closed: closed.signal });
    expect(Buffer.concat(received).toString()).toMatch(/^HTTP\/1.1 200 OK\r\n[\s\S]*\r\nok\n/);
    const refusedPort = await freePort();
    await expect(
      runtime.portForward(sandboxId, refusedPort, { input: input(), write: () => {}, end: () => {}, closed: closed.signal }),
    ).rejects.toThrow(/connection refused/);
  });
});

describe('ProcessRuntime adoption', () => {
  it('a new runtime over the same root dir follows a running container and can stop it', async () => {
    const root = tempDir();
    const first = runtimeAt(root);
    const { id, sandboxId } = await runContainer(first, root, { name: 'survivor', image: 'k8ts/pause' });
    const pid = Number(readFileSync(join(root, 'runtime', 'containers', id, 'pid'), 'utf8'));
    // Its trap is set once it sleeps: the exit code below is the trap's 0, not a SIGTERM's 143.
    await until('pause to sleep', () => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() !== '');
    await first.close(); // the agent "dies": its containers keep running
    expect(pidAlive(pid)).toBe(true);

    const second = runtimeAt(root);
    expect((await second.listPodSandboxes()).map((s) => s.id)).toEqual([sandboxId]);
    const listed = await second.listContainers();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id, state: 'running', name: 'survivor' });
    await second.stopContainer(id, 30);
    expect(await second.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 0 });
    expect(pidAlive(pid)).toBe(false);
  });

  it('a sandbox whose namespaces died with the node (a node container restarted) is not ready, its network freed', async () => {
    const root = tempDir();
    const first = runtimeAt(root);
    const { id, sandboxId } = await runContainer(first, root, { name: 'gone', image: 'k8ts/pause' });
    const pid = Number(readFileSync(join(root, 'runtime', 'containers', id, 'pid'), 'utf8'));
    await first.stopContainer(id, 0); // the node's restart took its processes
    await first.close();
    expect(pidAlive(pid)).toBe(false);

    const freed: string[][] = [];
    const restarted = { ...hostNetworkStandIn, intact: async () => false, reconcile: async (live: Iterable<string>) => (freed.push([...live]), []) };
    const second = runtimeAt(root, { network: restarted });
    expect(await second.podSandboxStatus(sandboxId)).toMatchObject({ state: 'notready' });
    expect(freed).toEqual([[]]); // nothing left live: the network frees what it held for the sandbox
    // Remembered: a third runtime over the same root dir finds it not ready without asking.
    await second.close();
    const third = runtimeAt(root);
    expect(await third.podSandboxStatus(sandboxId)).toMatchObject({ state: 'notready' });
  });

  it('reports the exit code and output of a container that ended while no runtime followed it', async () => {
    const root = tempDir();
    const first = runtimeAt(root);
    const go = join(root, 'go');
    const { id, config } = await runContainer(first, root, {
      name: 'finisher',
      command: ['sh', '-c', `echo before; while [ ! -e ${go} ]; do sleep 0.05; done; echo while-away; exit 7`],
    });
    await until('the first line', () => existsSync(config.logPath) && readFileSync(config.logPath, 'utf8').includes('before'));
    await first.close();
    writeFileSync(go, '');
    await until('the exit file', () => existsSync(join(root, 'runtime', 'containers', id, 'exit')));

    const second = runtimeAt(root);
    const seen: string[] = [];
    second.onContainerExit((c) => seen.push(c));
    expect(await exited(second, id)).toMatchObject({ exitCode: 7, reason: 'Error' });
    expect(logLines(config.logPath).map((line) => line.split(' ').slice(3).join(' '))).toEqual(['before', 'while-away']);
  });

  it('containers outlive an agent killed with SIGKILL and are adopted (the built runtime in a child process)', async () => {
    const root = tempDir();
    // The runtime's own built module (not the package index, which pulls in the rest of the kubelet).
    const dist = new URL('../../../dist/runtime/process/process_runtime.js', import.meta.url).href;
    const script = `
      const { ProcessRuntime } = await import(${JSON.stringify(dist)});
      const { pino } = await import('pino');
      const network = { mode: 'host', setUp: async () => ({ ips: ['127.0.0.1'], enter: [] }), tearDown: async () => {}, intact: async () => true, reconcile: async () => [] };
      const runtime = new ProcessRuntime({ rootDir: process.argv[1], network, logMaxSizeBytes: 1 << 20, logMaxFiles: 2, logger: pino({ level: 'silent' }) });
      const sandbox = await runtime.runPodSandbox({ uid: 'u', name: 'agent-pod', namespace: 'default', attempt: 0, hostname: 'agent-pod', hostNetwork: false, logDirectory: process.argv[1] + '/pods/p', portMappings: [], labels: {}, annotations: {} });
      const id = await runtime.createContainer(sandbox, { name: 'c', image: 'busybox', attempt: 0, command: ['sh', '-c', 'echo started; until [ -e ' + process.argv[1] + '/go ]; do sleep 0.1; done; echo while-away; touch ' + process.argv[1] + '/wrote; while :; do sleep 0.1; done'], args: [], env: [], mounts: [], logPath: process.argv[1] + '/pods/p/c/0.log', resources: {}, stdin: false, stdinOnce: false, tty: false, labels: {}, annotations: {} });
      await runtime.startContainer(id);
      console.log(id);
      setInterval(() => {}, 1000);`;
    const agent = spawn(process.execPath, ['--input-type=module', '-e', script, root], { stdio: ['ignore', 'pipe', 'pipe'], cwd: new URL('../../..', import.meta.url).pathname });
    cleanups.push(() => void agent.kill('SIGKILL'));
    let agentErrors = '';
    agent.stderr.on('data', (chunk: Buffer) => (agentErrors += chunk.toString()));
    // Bounded, and saying what the child printed and what its root dir holds, so a hang is diagnosable.
    const id = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the child runtime printed no container id within 30 s; stderr: ${agentErrors}; shim logs: ${shimLogs(root)}`)), 30_000);
      agent.stdout.on('data', (chunk: Buffer) => (clearTimeout(timer), resolve(chunk.toString().trim())));
      agent.on('exit', (code) => (clearTimeout(timer), reject(new Error(`agent exited with ${code}: ${agentErrors}`))));
    });
    const pid = Number(readFileSync(join(root, 'runtime', 'containers', id, 'pid'), 'utf8'));
    const log = join(root, 'pods', 'p', 'c', '0.log');
    const logged = (line: string): boolean => existsSync(log) && new RegExp(` stdout F ${line}\n`).test(readFileSync(log, 'utf8'));
    // Killed once its first line is logged: a chunk the agent has read but not yet written when it
    // is killed is lost (the agent is the log writer; README), which is not what this test is about.
    await until('the first line in the log', () => logged('started'), 15_000);
    agent.kill('SIGKILL');
    await new Promise((resolve) => agent.once('exit', resolve));
    expect(pidAlive(pid)).toBe(true);
    // The container writes while no agent reads its pipe; the output waits there.
    writeFileSync(join(root, 'go'), '');
    await until('the container to have written while no agent ran', () => existsSync(join(root, 'wrote')), 15_000);

    const second = runtimeAt(root);
    expect(await second.containerStatus(id)).toMatchObject({ state: 'running', name: 'c' });
    await second.stopContainer(id, 10);
    expect(await second.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 143, reason: 'Error' });
    expect(pidAlive(pid)).toBe(false);
    // The new runtime drains what the container wrote while no agent read its pipe.
    await until(`the line written while no agent ran to reach the log (${shimLogs(root)})`, () => logged('while-away'), 15_000);
  });

  it('reports exited 255 Unknown, and kills, a container whose shim is gone', async () => {
    const root = tempDir();
    const first = runtimeAt(root);
    const { id } = await runContainer(first, root, { name: 'orphan', image: 'k8ts/pause' });
    const record = JSON.parse(readFileSync(join(root, 'runtime', 'containers', id, 'container.json'), 'utf8')) as { shim: { pid: number }; pid: { pid: number } };
    await first.close();
    process.kill(record.shim.pid, 'SIGKILL');
    await until('the shim to die', () => !pidAlive(record.shim.pid));
    expect(pidAlive(record.pid.pid)).toBe(true);

    const second = runtimeAt(root);
    expect(await second.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 255, reason: 'Unknown' });
    await until('the container to be killed', () => !pidAlive(record.pid.pid));
  });
});

/** Every container's shim.log under a runtime root (diagnostics for a start that hangs). */
function shimLogs(root: string): string {
  const containers = join(root, 'runtime', 'containers');
  if (!existsSync(containers)) return '(no containers)';
  return readdirSync(containers)
    .map((id) => `${id}: ${existsSync(join(containers, id, 'shim.log')) ? readFileSync(join(containers, id, 'shim.log'), 'utf8') : '(no shim.log)'} files: ${readdirSync(join(containers, id)).join(',')}`)
    .join('; ');
}
