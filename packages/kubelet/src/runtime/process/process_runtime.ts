/**
 * The process runtime: each container is a process group on this node, started by a small `sh` shim
 * (see shim_script.ts) that outlives the agent, with its image taken from the catalog
 * (image_catalog.ts), its limits from cgroups (cgroups.ts) and, when root, a mount namespace of its
 * own with its volumes bound at their mountPaths.
 *
 * Layout under `rootDir` (the kubelet's root dir): `runtime/sandboxes/<id>/sandbox.json`,
 * `runtime/containers/<id>/container.json` with the
 * shim's files beside it (FIFOs, pid, exit). A runtime started over the same rootDir adopts what it
 * finds: containers whose shim still runs (same pid and start time) are followed again, containers
 * whose shim wrote an exit status are reported with it, the rest are killed and reported exited 255
 * (reason Unknown) — never run twice.
 */
import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher, constants, openSync, statSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import type { Logger } from 'pino';
import { formatResolvConf } from '../../dns/resolv_conf.js';
import type { PodNetwork } from '../../network/pod_network.js';
import {
  RuntimeError,
  type ContainerConfig,
  type ContainerFilter,
  type ContainerStats,
  type ContainerStatus,
  type ExecResult,
  type ImageInfo,
  type Mount,
  type PodSandboxConfig,
  type PodSandboxStatus,
  type PortStream,
  type Runtime,
  type RuntimeVersion,
  type SandboxState,
  type StreamingIO,
} from '../runtime.js';
import { detectCgroups, type Cgroups, type ContainerCgroup } from './cgroups.js';
import { ContainerOutput } from './container_output.js';
import { DEFAULT_PATH, execNotFoundMessage, findExecutable, hostPathOf, mountEnvName, notFoundMessage } from './container_paths.js';
import { ImageCatalog, effectiveCommand } from './image_catalog.js';
import { groupMembers, identify, isAlive, processGroupOf, processGroups, signalGroup, signalProcess, usageOf, type ProcessIdentity } from './proc.js';
import { SHIM_FILES, quote, shimScript } from './shim_script.js';
import { readRecords, writeRecord } from './state_files.js';
import { sharedSpawner } from '../../spawner/spawner.js';
import { forwardPort, runStreaming, runSync } from './streaming.js';

export interface ProcessRuntimeOptions {
  readonly rootDir: string;
  readonly network: PodNetwork;
  /** Extra catalog files (`--image-catalog`), over the built-in one. */
  readonly catalog?: string | readonly string[];
  readonly logMaxSizeBytes: number;
  readonly logMaxFiles: number;
  readonly logger: Logger;
  /** Run each container in a mount namespace of its own (default: when root). */
  readonly mountNamespaces?: boolean;
  /** The cgroup folder containers go under (default `k8ts`); false: no cgroups, measure from /proc. */
  readonly cgroupParent?: string | false;
}

interface SandboxRecord {
  readonly id: string;
  readonly config: PodSandboxConfig;
  readonly createdAt: string;
  state: SandboxState;
  readonly ips: readonly string[];
  readonly enter: readonly string[];
}

type RecordState = 'created' | 'starting' | 'running' | 'exited';

interface ContainerRecord {
  readonly id: string;
  readonly sandboxId: string;
  readonly config: ContainerConfig;
  readonly image: string;
  readonly imageRef: string;
  readonly createdAt: string;
  readonly mountNamespace: boolean;
  /** The command as the container runs it (argv[0] as the container sees it), its env and working dir. */
  readonly argv: readonly string[];
  readonly env: readonly (readonly [string, string])[];
  readonly workingDir: string;
  state: RecordState;
  shim?: ProcessIdentity;
  pid?: ProcessIdentity;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
  message?: string;
}

interface Followed {
  readonly output: ContainerOutput;
  readonly watcher: FSWatcher | undefined;
  readonly exited: Promise<void>;
  readonly markExited: () => void;
  finishing: boolean;
}

const RUNTIME_VERSION: RuntimeVersion = { runtimeName: 'k8ts-process', runtimeVersion: '0.1.0' };
const EXIT_POLL_MS = 1_000;
const RESOLV_CONF = '/etc/resolv.conf';
const START_DEADLINE_MS = 30_000;
const KILL_DEADLINE_MS = 30_000;
/** Marks a container the runtime killed for using more memory than its limit (no cgroups). */
const OOM_MARKER = 'oom_killed';

/** util-linux `script`, for execs with a tty (looked up once on the node's PATH). */
const SCRIPT_PROGRAM = (process.env['PATH'] ?? DEFAULT_PATH)
  .split(':')
  .map((dir) => join(dir || '.', 'script'))
  .find((path) => existsSync(path));

function newId(): string {
  return randomBytes(32).toString('hex');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function waitFor<T>(check: () => T | undefined, deadlineMs: number, what: string): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 20)) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new RuntimeError('Internal', `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

export class ProcessRuntime implements Runtime {
  private readonly catalog: ImageCatalog;
  private readonly cgroups: Cgroups | undefined;
  private readonly mountNamespaces: boolean;
  private readonly logger: Logger;
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly followed = new Map<string, Followed>();
  private readonly exitListeners: ((containerId: string) => void)[] = [];
  private readonly pulled = new Set<string>();
  private readonly cpuSamples = new Map<string, { atNanos: bigint; cpuNanos: number }>();
  private readonly ready: Promise<void>;
  private readonly poller: NodeJS.Timeout;
  private readonly spawner = sharedSpawner();
  private closed = false;

  constructor(private readonly options: ProcessRuntimeOptions) {
    const extra = options.catalog === undefined ? [] : typeof options.catalog === 'string' ? [options.catalog] : options.catalog;
    this.catalog = new ImageCatalog(extra);
    this.logger = options.logger;
    const root = process.getuid?.() === 0;
    this.mountNamespaces = options.mountNamespaces ?? root;
    let cgroups: Cgroups | undefined;
    if (options.cgroupParent !== false) {
      try {
        cgroups = detectCgroups(options.cgroupParent ?? 'k8ts');
      } catch (error) {
        this.logger.warn({ err: error }, 'cgroups unavailable: container usage is measured from /proc');
      }
    }
    this.cgroups = cgroups;
    this.logger.info(
      { cgroups: cgroups?.version ?? 'none', mountNamespaces: this.mountNamespaces, network: options.network.mode },
      'process runtime starting',
    );
    this.ready = this.adopt();
    this.ready.catch((error: unknown) => this.logger.error({ err: error }, 'process runtime could not read its state'));
    this.poller = setInterval(() => this.poll(), EXIT_POLL_MS);
    this.poller.unref();
  }

  version(): RuntimeVersion {
    return RUNTIME_VERSION;
  }

  // ---- images

  async pullImage(image: string): Promise<string> {
    const resolved = this.catalog.resolve(image);
    this.pulled.add(resolved.reference.fullName);
    return resolved.imageRef;
  }

  async listImages(): Promise<readonly ImageInfo[]> {
    return this.catalog.imageInfos(this.pulled);
  }

  // ---- sandboxes

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    await this.ready;
    const id = newId();
    let attachment;
    try {
      attachment = await this.options.network.setUp(id, config);
    } catch (error) {
      await this.options.network.tearDown(id).catch(() => {});
      throw new RuntimeError('Internal', `failed to setup network for sandbox "${id}": ${message(error)}`);
    }
    const record: SandboxRecord = { id, config, createdAt: new Date().toISOString(), state: 'ready', ips: attachment.ips, enter: attachment.enter };
    try {
      await writeRecord(this.sandboxFile(id), record);
      if (config.dnsConfig !== undefined) await writeFile(this.resolvConfFile(id), formatResolvConf(config.dnsConfig));
    } catch (error) {
      await this.options.network.tearDown(id).catch(() => {});
      await rm(this.sandboxDir(id), { recursive: true, force: true });
      throw new RuntimeError('Internal', `failed to save sandbox "${id}": ${message(error)}`);
    }
    this.sandboxes.set(id, record);
    return id;
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    await this.ready;
    // Idempotent, as the CRI asks: a sandbox already removed has nothing left to stop.
    const sandbox = this.sandboxes.get(sandboxId);
    if (sandbox === undefined) return;
    const members = [...this.containers.values()].filter((c) => c.sandboxId === sandboxId && c.state !== 'exited');
    await Promise.all(members.map((c) => this.stopContainer(c.id, 0)));
    if (sandbox.state === 'notready') return;
    try {
      await this.options.network.tearDown(sandboxId);
    } catch (error) {
      throw new RuntimeError('Internal', `failed to destroy network for sandbox "${sandboxId}": ${message(error)}`);
    }
    sandbox.state = 'notready';
    await writeRecord(this.sandboxFile(sandboxId), sandbox);
  }

  removePodSandbox(sandboxId: string): Promise<void> {
    return internalOnFailure(`removePodSandbox`, () => this.doRemovePodSandbox(sandboxId));
  }

  private async doRemovePodSandbox(sandboxId: string): Promise<void> {
    await this.ready;
    if (!this.sandboxes.has(sandboxId)) return;
    await this.stopPodSandbox(sandboxId);
    for (const container of [...this.containers.values()]) {
      if (container.sandboxId === sandboxId) await this.removeContainer(container.id);
    }
    await rm(this.sandboxDir(sandboxId), { recursive: true, force: true });
    this.sandboxes.delete(sandboxId);
  }

  async podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus> {
    await this.ready;
    return this.sandboxStatus(this.sandbox(sandboxId));
  }

  async listPodSandboxes(): Promise<readonly PodSandboxStatus[]> {
    await this.ready;
    return [...this.sandboxes.values()].map((s) => this.sandboxStatus(s));
  }

  // ---- containers

  createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    return internalOnFailure(`createContainer`, () => this.doCreateContainer(sandboxId, config));
  }

  private async doCreateContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    await this.ready;
    const sandbox = this.sandbox(sandboxId);
    if (sandbox.state !== 'ready') throw new RuntimeError('Internal', `sandbox "${sandboxId}" is not ready`);
    const { image, imageRef, reference } = { ...this.catalog.resolve(config.image) };
    const argv = effectiveCommand(image, config.command, config.args);
    if (argv.length === 0) throw new RuntimeError('CannotRun', 'failed to generate spec: no command specified');
    const mountNamespace = this.mountNamespaces;
    const envMap = new Map<string, string>([
      ['PATH', process.env['PATH'] ?? DEFAULT_PATH],
      ['HOSTNAME', sandbox.enter.length > 0 ? sandbox.config.hostname : hostname()],
      ['HOME', '/root'],
    ]);
    for (const [name, value] of Object.entries(image.env)) envMap.set(name, value);
    for (const mount of config.mounts) envMap.set(mountEnvName(mount.containerPath), mountNamespace ? mount.containerPath : mount.hostPath);
    for (const { name, value } of config.env) envMap.set(name, value);
    const id = newId();
    const record: ContainerRecord = {
      id,
      sandboxId,
      config,
      image: reference.fullName,
      imageRef,
      createdAt: new Date().toISOString(),
      mountNamespace,
      argv,
      env: [...envMap],
      workingDir: config.workingDir || image.workingDir || '/',
      state: 'created',
    };
    await this.save(record);
    this.containers.set(id, record);
    return id;
  }

  startContainer(containerId: string): Promise<void> {
    return internalOnFailure(`startContainer`, () => this.doStartContainer(containerId));
  }

  private async doStartContainer(containerId: string): Promise<void> {
    await this.ready;
    const record = this.container(containerId);
    if (record.state !== 'created') throw new RuntimeError('Internal', `container "${containerId}" is in ${criState(record)} state`);
    const sandbox = this.sandbox(record.sandboxId);
    const dir = this.containerDir(containerId);
    const path = record.env.find(([name]) => name === 'PATH')?.[1] ?? DEFAULT_PATH;
    const program = record.argv[0]!;
    const found = findExecutable(program, path, record.workingDir, record.config.mounts);
    if (found === undefined) {
      await this.finishWithoutStart(record, notFoundMessage(program));
      throw new RuntimeError('CannotRun', record.message!);
    }
    let cgroup: ContainerCgroup | undefined;
    try {
      cgroup = this.cgroups?.create(containerId, record.config.resources);
    } catch (error) {
      await this.finishWithoutStart(record, `failed to create cgroup: ${message(error)}`);
      throw new RuntimeError('CannotRun', record.message!);
    }
    const inNamespace = record.mountNamespace;
    const script = shimScript({
      containerDir: dir,
      argv: [inNamespace ? found.containerPath : found.hostPath, ...record.argv.slice(1)],
      env: record.env,
      workingDir: inNamespace ? record.workingDir : hostPathOf(record.workingDir, record.config.mounts),
      // Outer paths first, so a volume mounted inside another one's mountPath is not hidden by it.
      mounts: inNamespace
        ? [...record.config.mounts, ...this.resolvConfMount(sandbox, record.config.mounts)]
            .sort((a, b) => a.containerPath.split('/').length - b.containerPath.split('/').length)
            .map((m) => ({ ...m, isDirectory: isDirectory(m.hostPath) }))
        : [],
      cgroupProcFiles: cgroup?.procFiles ?? [],
      stdin: record.config.stdin,
    });
    await writeFile(join(dir, SHIM_FILES.script), script);
    record.state = 'starting';
    await this.save(record);
    const argv = [
      ...sandbox.enter,
      // slave: the node's unmounts (a deleted pod's namespace files) reach every container, so no
      // container keeps another pod's network namespace alive; the container's own binds stay its own.
      ...(inNamespace ? ['unshare', '--mount', '--propagation', 'slave'] : []),
      '/bin/sh',
      join(dir, SHIM_FILES.script),
    ];
    // Through the agent's spawner: the shim is orphaned at once (as a detached child was), so it
    // outlives the agent, and the agent's own process is never forked for it.
    const shim = await this.spawner.start(argv, join(dir, 'shim.log')).then(
      (pid) => identify(pid),
      (error: unknown) => {
        this.logger.error({ err: error, containerId }, 'container shim did not start');
        return undefined;
      },
    );
    if (shim === undefined) {
      const log = readText(join(dir, 'shim.log')).trim();
      await this.finishWithoutStart(record, `failed to start shim: ${log || `${argv[0]} could not run`}`);
      throw new RuntimeError('CannotRun', record.message!);
    }
    // Saved with the running state: until then, adoption finds the shim by its shim.pid file.
    record.shim = shim;
    await this.awaitStart(record);
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.ready;
    const record = this.container(containerId);
    if (record.state === 'created') {
      await this.finishWithoutStart(record, 'container was stopped before it started', 'Unknown', 255);
      return;
    }
    const followed = this.followed.get(containerId);
    if (record.state === 'exited' || followed === undefined || record.pid === undefined) return;
    const pgid = record.pid.pid;
    if (isAlive(record.pid)) signalGroup(pgid, 'SIGTERM');
    const graceful = await Promise.race([
      followed.exited.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), Math.max(0, timeoutSeconds) * 1000).unref()),
    ]);
    if (!graceful) {
      this.killContainer(record);
      const killed = await Promise.race([
        followed.exited.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), KILL_DEADLINE_MS).unref()),
      ]);
      if (!killed) throw new RuntimeError('Internal', `container "${containerId}" did not stop after SIGKILL`);
    }
  }

  removeContainer(containerId: string): Promise<void> {
    return internalOnFailure(`removeContainer`, () => this.doRemoveContainer(containerId));
  }

  private async doRemoveContainer(containerId: string): Promise<void> {
    await this.ready;
    const record = this.containers.get(containerId);
    if (record === undefined) return;
    if (record.state === 'running' || record.state === 'starting') await this.stopContainer(containerId, 0);
    if (record.shim !== undefined && isAlive(record.shim)) signalProcess(record.shim.pid, 'SIGKILL');
    try {
      this.cgroups?.open(containerId)?.remove();
    } catch (error) {
      this.logger.warn({ err: error, containerId }, 'container cgroup not removed');
    }
    await rm(this.containerDir(containerId), { recursive: true, force: true });
    this.containers.delete(containerId);
    this.cpuSamples.delete(containerId);
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    await this.ready;
    return this.status(this.container(containerId));
  }

  async listContainers(filter?: ContainerFilter): Promise<readonly ContainerStatus[]> {
    await this.ready;
    return [...this.containers.values()]
      .map((record) => this.status(record))
      .filter((s) => (filter?.sandboxId === undefined || s.sandboxId === filter.sandboxId) && (filter?.state === undefined || s.state === filter.state));
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    await this.ready;
    const record = this.container(containerId);
    const usage = this.usage(record);
    const now = process.hrtime.bigint();
    const previous = this.cpuSamples.get(containerId);
    this.cpuSamples.set(containerId, { atNanos: now, cpuNanos: usage.cpuNanos });
    let cpuUsageNanoCores = 0;
    if (previous !== undefined && now > previous.atNanos) {
      cpuUsageNanoCores = ((usage.cpuNanos - previous.cpuNanos) * 1e9) / Number(now - previous.atNanos);
    } else if (record.startedAt !== undefined) {
      const elapsedNanos = (Date.now() - Date.parse(record.startedAt)) * 1e6;
      cpuUsageNanoCores = elapsedNanos > 0 ? (usage.cpuNanos * 1e9) / elapsedNanos : 0;
    }
    return { id: containerId, cpuUsageNanoCores: Math.max(0, Math.round(cpuUsageNanoCores)), memoryWorkingSetBytes: usage.memoryBytes };
  }

  onContainerExit(listener: (containerId: string) => void): void {
    this.exitListeners.push(listener);
  }

  // ---- streaming

  async execSync(containerId: string, command: readonly string[], timeoutSeconds: number): Promise<ExecResult> {
    await this.ready;
    const { argv, cwd } = this.execCommand(containerId, command);
    return runSync(argv, cwd, timeoutSeconds);
  }

  async exec(containerId: string, command: readonly string[], io: StreamingIO): Promise<number> {
    await this.ready;
    const { argv, cwd } = this.execCommand(containerId, command, io.tty);
    return runStreaming(argv, cwd, io);
  }

  async attach(containerId: string, io: StreamingIO): Promise<void> {
    await this.ready;
    const record = this.container(containerId);
    const followed = this.followed.get(containerId);
    if (record.state !== 'running' || followed === undefined) throw this.notRunning(record);
    const stdout = io.stdout ?? (() => {});
    const stderr = io.tty ? stdout : (io.stderr ?? (() => {}));
    const unsubscribe = followed.output.subscribe((stream, chunk) => (stream === 'stdout' ? stdout : stderr)(chunk));
    let input: Socket | undefined;
    if (record.config.stdin && io.stdin !== undefined) {
      const fd = openSync(join(this.containerDir(containerId), SHIM_FILES.stdin), constants.O_WRONLY | constants.O_NONBLOCK);
      const socket = new Socket({ fd, readable: false, writable: true });
      socket.on('error', () => {});
      input = socket;
      const stdin = io.stdin;
      void (async () => {
        for await (const chunk of stdin) socket.write(chunk);
      })().catch(() => {});
    }
    try {
      await Promise.race([followed.exited, new Promise<void>((resolve) => (io.closed.aborted ? resolve() : io.closed.addEventListener('abort', () => resolve(), { once: true })))]);
    } finally {
      unsubscribe();
      input?.destroy();
    }
  }

  async portForward(sandboxId: string, port: number, stream: PortStream): Promise<void> {
    await this.ready;
    const sandbox = this.sandbox(sandboxId);
    if (sandbox.state !== 'ready') throw new RuntimeError('NotRunning', `sandbox "${sandboxId}" is not ready`);
    return forwardPort(sandbox.enter, sandboxId, port, stream);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poller);
    await this.ready.catch(() => {});
    const followed = [...this.followed.values()];
    this.followed.clear();
    for (const f of followed) f.watcher?.close();
    await Promise.all(followed.map((f) => f.output.close()));
  }

  // ---- following containers

  /** Waits for the shim to report the container's pid (or a start error), then follows it. */
  private async awaitStart(record: ContainerRecord): Promise<void> {
    const dir = this.containerDir(record.id);
    const outcome = await waitFor(
      () => {
        if (readText(join(dir, SHIM_FILES.exit)) !== '') return 'exited' as const;
        const pid = Number(readText(join(dir, SHIM_FILES.pid)));
        // Started once the command runs in a process group of its own (setsid done), so signals reach it.
        if (pid > 0 && processGroupOf(pid) === pid) return pid;
        if (record.shim !== undefined && !isAlive(record.shim)) return 'shim-gone' as const;
        return undefined;
      },
      START_DEADLINE_MS,
      `container ${record.id} to start`,
    );
    if (outcome === 'shim-gone') {
      const log = readText(join(dir, 'shim.log')).trim();
      await this.finishWithoutStart(record, `failed to start container: ${log || 'the shim exited'}`);
      throw new RuntimeError('CannotRun', record.message!);
    }
    const startError = readText(join(dir, SHIM_FILES.startError));
    if (startError !== '') {
      this.killShim(record);
      await this.finishWithoutStart(record, `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${startError}: unknown`);
      throw new RuntimeError('CannotRun', record.message!);
    }
    const pid = outcome === 'exited' ? Number(readText(join(dir, SHIM_FILES.pid))) : outcome;
    record.pid = identify(pid) ?? { pid, startTime: '' };
    record.startedAt = new Date().toISOString();
    record.state = 'running';
    await this.save(record);
    this.follow(record);
  }

  private follow(record: ContainerRecord): void {
    if (this.followed.has(record.id) || this.closed) return;
    const dir = this.containerDir(record.id);
    let output: ContainerOutput;
    try {
      output = new ContainerOutput(dir, record.config.logPath, {
        maxSizeBytes: this.options.logMaxSizeBytes,
        maxFiles: this.options.logMaxFiles,
        logger: this.logger,
      });
    } catch (error) {
      // Its FIFOs are gone: nothing of it can be followed, so it must not run on unseen.
      this.logger.error({ err: error, containerId: record.id }, 'container output cannot be read: killing it');
      this.killContainer(record);
      return;
    }
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(dir, (_event, file) => {
        if (file === SHIM_FILES.exit) this.checkExit(record.id);
      });
      watcher.on('error', () => {});
    } catch (error) {
      this.logger.warn({ err: error, containerId: record.id }, 'cannot watch container folder: polling it');
    }
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    this.followed.set(record.id, { output, watcher, exited, markExited, finishing: false });
    this.checkExit(record.id);
  }

  private poll(): void {
    for (const id of this.followed.keys()) this.checkExit(id);
    if (this.cgroups === undefined) this.enforceMemoryLimits();
  }

  private checkExit(containerId: string): void {
    const followed = this.followed.get(containerId);
    const record = this.containers.get(containerId);
    if (followed === undefined || record === undefined || followed.finishing) return;
    const exitText = readText(join(this.containerDir(containerId), SHIM_FILES.exit));
    const shimGone = record.shim !== undefined && !isAlive(record.shim);
    if (exitText === '' && !shimGone) return;
    followed.finishing = true;
    this.finish(record, followed, exitText === '' ? undefined : Number(exitText)).catch((error: unknown) =>
      this.logger.error({ err: error, containerId }, 'container exit not recorded'),
    );
  }

  /** The container ended: kill what is left of it, drain its output, record its status, tell listeners. */
  private async finish(record: ContainerRecord, followed: Followed, exitCode: number | undefined): Promise<void> {
    const dir = this.containerDir(record.id);
    this.killContainer(record);
    this.killShim(record);
    followed.watcher?.close();
    await followed.output.drain();
    const cgroup = this.cgroups?.open(record.id);
    const oomKilled = (cgroup?.oomKilled() ?? false) || existsSync(join(dir, OOM_MARKER));
    let finishedAt = new Date();
    try {
      finishedAt = (await stat(join(dir, SHIM_FILES.exit))).mtime;
    } catch {
      // No exit file: the shim died; now is as good as it gets.
    }
    const ending =
      exitCode === undefined
        ? { exitCode: 255, reason: 'Unknown', message: 'the container shim exited without recording the exit status' }
        : oomKilled
          ? { exitCode: 137, reason: 'OOMKilled' }
          : { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' };
    await this.recordExit(record, { finishedAt: finishedAt.toISOString(), ...ending });
    if (this.followed.get(record.id) === followed) this.followed.delete(record.id);
    followed.markExited();
  }

  /** Saves the container as exited, then (at once) shows it in its status and tells the listeners. */
  private async recordExit(record: ContainerRecord, ending: Pick<ContainerRecord, 'finishedAt' | 'exitCode' | 'reason' | 'message' | 'startedAt'>): Promise<void> {
    const exited: ContainerRecord = { ...record, ...ending, state: 'exited' };
    await this.save(exited);
    Object.assign(record, exited);
    this.notifyExit(record.id);
  }

  /** Records a container that never ran its command (StartError: exit code 128 as containerd reports). */
  private async finishWithoutStart(record: ContainerRecord, why: string, reason = 'ContainerCannotRun', exitCode = 128): Promise<void> {
    const now = new Date().toISOString();
    await this.recordExit(record, { exitCode, reason, message: why, startedAt: record.startedAt ?? now, finishedAt: now });
  }

  private notifyExit(containerId: string): void {
    for (const listener of this.exitListeners) {
      try {
        listener(containerId);
      } catch (error) {
        this.logger.error({ err: error, containerId }, 'container exit listener failed');
      }
    }
  }

  /** SIGKILL to the container's process group and to anything else in its cgroup. */
  private killContainer(record: ContainerRecord): void {
    // Only while its first process is the one we started: a group id is never checked otherwise.
    if (record.pid !== undefined && isAlive(record.pid)) signalGroup(record.pid.pid, 'SIGKILL');
    for (const pid of this.cgroups?.open(record.id)?.pids() ?? []) signalProcess(pid, 'SIGKILL');
  }

  private killShim(record: ContainerRecord): void {
    if (record.shim !== undefined && isAlive(record.shim)) signalProcess(record.shim.pid, 'SIGKILL');
  }

  /** Without cgroups, a container over its memory limit is killed here and reported OOMKilled. */
  private enforceMemoryLimits(): void {
    const limited = [...this.followed.keys()]
      .map((id) => this.containers.get(id))
      .filter((r): r is ContainerRecord => r?.state === 'running' && r.pid !== undefined && r.config.resources.memoryLimitBytes !== undefined);
    if (limited.length === 0) return;
    const groups = processGroups();
    for (const record of limited) {
      const pgid = record.pid!.pid;
      if (!isAlive(record.pid!)) continue;
      if (usageOf(groups.get(pgid) ?? []).memoryBytes <= record.config.resources.memoryLimitBytes!) continue;
      writeFileSync(join(this.containerDir(record.id), OOM_MARKER), '');
      signalGroup(pgid, 'SIGKILL');
    }
  }

  private usage(record: ContainerRecord): { cpuNanos: number; memoryBytes: number } {
    if (record.state !== 'running' || record.pid === undefined) return { cpuNanos: 0, memoryBytes: 0 };
    const cgroup = this.cgroups?.open(record.id);
    if (cgroup !== undefined) {
      const usage = cgroup.usage();
      return { cpuNanos: usage.cpuNanos, memoryBytes: usage.memoryWorkingSetBytes };
    }
    return usageOf(groupMembers(record.pid.pid));
  }

  // ---- adoption

  private async adopt(): Promise<void> {
    const onError = (path: string, error: unknown): void => this.logger.error({ err: error, path }, 'unreadable runtime record skipped');
    for (const sandbox of await readRecords<SandboxRecord>(join(this.options.rootDir, 'runtime', 'sandboxes'), 'sandbox.json', onError)) {
      this.sandboxes.set(sandbox.id, sandbox);
      if (sandbox.state === 'ready' && !(await this.options.network.intact(sandbox.id, sandbox.config).catch(() => false))) {
        // The node restarted (its container did, or the machine): the namespaces died with it, as the
        // processes did. Not ready, so the kubelet makes the pod a new sandbox, as upstream after a reboot.
        sandbox.state = 'notready';
        await writeRecord(this.sandboxFile(sandbox.id), sandbox);
        this.logger.warn({ sandboxId: sandbox.id }, 'sandbox not adopted: its namespaces are gone (the node restarted); reported not ready');
      }
      if (sandbox.state === 'ready') {
        // The network's setUp is idempotent: it learns again about the sandbox it made before.
        await this.options.network.setUp(sandbox.id, sandbox.config).catch((error: unknown) =>
          this.logger.error({ err: error, sandboxId: sandbox.id }, 'sandbox network not set up again'),
        );
      }
    }
    // Free what the network holds for sandboxes this runtime no longer has (a crash mid-runPodSandbox).
    const live = [...this.sandboxes.values()].filter((s) => s.state === 'ready').map((s) => s.id);
    await this.options.network.reconcile(live).catch((error: unknown) => this.logger.error({ err: error }, 'pod network not reconciled'));
    for (const record of await readRecords<ContainerRecord>(join(this.options.rootDir, 'runtime', 'containers'), 'container.json', onError)) {
      this.containers.set(record.id, record);
      if (record.state === 'created' || record.state === 'exited') continue;
      await this.adoptContainer(record);
    }
  }

  private async adoptContainer(record: ContainerRecord): Promise<void> {
    const dir = this.containerDir(record.id);
    // The shim may have started after the record was last written (the agent died in between).
    if (record.shim === undefined) {
      const shimPid = Number(readText(join(dir, SHIM_FILES.shimPid)));
      const identity = shimPid > 0 ? identify(shimPid) : undefined;
      if (identity !== undefined && readText(`/proc/${shimPid}/cmdline`).includes(dir)) record.shim = identity;
    }
    if (record.pid === undefined) {
      const pid = Number(readText(join(dir, SHIM_FILES.pid)));
      if (pid > 0) {
        record.pid = identify(pid) ?? { pid, startTime: '' };
        record.startedAt ??= new Date().toISOString();
      }
    }
    const exitRecorded = readText(join(dir, SHIM_FILES.exit)) !== '';
    const shimAlive = record.shim !== undefined && isAlive(record.shim);
    if (record.pid !== undefined && (exitRecorded || shimAlive) && readText(join(dir, SHIM_FILES.startError)) === '') {
      record.state = 'running';
      await this.save(record);
      this.logger.info({ containerId: record.id, pid: record.pid.pid }, 'container adopted');
      this.follow(record);
      return;
    }
    // Nothing can tell its exit code any more: make sure it does not run, and say so.
    this.killContainer(record);
    this.killShim(record);
    const startError = readText(join(dir, SHIM_FILES.startError));
    if (startError !== '') {
      await this.finishWithoutStart(record, startError);
      return;
    }
    this.logger.warn({ containerId: record.id }, 'container could not be adopted: reported exited (Unknown)');
    await this.finishWithoutStart(record, 'the container could not be followed after the runtime restarted', 'Unknown', 255);
  }

  // ---- helpers

  /**
   * The command line of an exec. With a tty, the command runs under util-linux `script`, which gives
   * it a pseudo-terminal (terminal resizes are not passed on); without `script`, plain pipes.
   */
  private execCommand(containerId: string, command: readonly string[], tty = false): { argv: string[]; cwd: string | undefined } {
    const record = this.container(containerId);
    if (record.state !== 'running' || record.pid === undefined || !isAlive(record.pid)) throw this.notRunning(record);
    if (command.length === 0) throw new RuntimeError('CannotRun', 'failed to exec in container: no command specified');
    const path = record.env.find(([name]) => name === 'PATH')?.[1] ?? DEFAULT_PATH;
    const found = findExecutable(command[0]!, path, record.workingDir, record.config.mounts);
    if (found === undefined) throw new RuntimeError('CannotRun', execNotFoundMessage(command[0]!));
    const env = record.env.map(([name, value]) => `${name}=${value}`);
    const withTty = (program: string): string[] => {
      const line = [program, ...command.slice(1)];
      return tty && SCRIPT_PROGRAM !== undefined ? [SCRIPT_PROGRAM, '-qfec', line.map(quote).join(' '), '/dev/null'] : line;
    };
    if (process.getuid?.() === 0) {
      // Into the container's own namespaces (mount, network, hostname), by its pid.
      const wd = record.mountNamespace ? record.workingDir : hostPathOf(record.workingDir, record.config.mounts);
      const program = record.mountNamespace ? found.containerPath : found.hostPath;
      return {
        argv: ['nsenter', '-t', String(record.pid.pid), '-m', '-n', '-u', `--wd=${wd}`, 'env', '-i', ...env, ...withTty(program)],
        cwd: undefined,
      };
    }
    const sandbox = this.sandbox(record.sandboxId);
    return {
      argv: [...sandbox.enter, 'env', '-i', ...env, ...withTty(found.hostPath)],
      cwd: hostPathOf(record.workingDir, record.config.mounts),
    };
  }

  private notRunning(record: ContainerRecord): RuntimeError {
    return new RuntimeError('NotRunning', `failed to exec in container: container is in ${criState(record)} state`);
  }

  private status(record: ContainerRecord): ContainerStatus {
    const state = record.state === 'starting' ? 'created' : record.state;
    return {
      id: record.id,
      sandboxId: record.sandboxId,
      name: record.config.name,
      attempt: record.config.attempt,
      state,
      image: record.image,
      imageRef: record.imageRef,
      createdAt: new Date(record.createdAt),
      ...(record.startedAt !== undefined ? { startedAt: new Date(record.startedAt) } : {}),
      ...(record.finishedAt !== undefined ? { finishedAt: new Date(record.finishedAt) } : {}),
      ...(record.exitCode !== undefined ? { exitCode: record.exitCode } : {}),
      ...(record.reason !== undefined ? { reason: record.reason } : {}),
      ...(record.message !== undefined ? { message: record.message } : {}),
      logPath: record.config.logPath,
      labels: record.config.labels,
      annotations: record.config.annotations,
    };
  }

  private sandboxStatus(record: SandboxRecord): PodSandboxStatus {
    return {
      id: record.id,
      uid: record.config.uid,
      name: record.config.name,
      namespace: record.config.namespace,
      attempt: record.config.attempt,
      state: record.state,
      createdAt: new Date(record.createdAt),
      ips: record.ips,
    };
  }

  private sandbox(sandboxId: string): SandboxRecord {
    const sandbox = this.sandboxes.get(sandboxId);
    if (sandbox === undefined) throw new RuntimeError('NotFound', `an error occurred when try to find sandbox "${sandboxId}": not found`);
    return sandbox;
  }

  private container(containerId: string): ContainerRecord {
    const record = this.containers.get(containerId);
    if (record === undefined) throw new RuntimeError('NotFound', `an error occurred when try to find container "${containerId}": not found`);
    return record;
  }

  private async save(record: ContainerRecord): Promise<void> {
    try {
      await writeRecord(join(this.containerDir(record.id), 'container.json'), record);
    } catch (error) {
      throw new RuntimeError('Internal', `failed to save container "${record.id}": ${message(error)}`);
    }
  }

  private sandboxDir(id: string): string {
    return join(this.options.rootDir, 'runtime', 'sandboxes', id);
  }

  private resolvConfFile(sandboxId: string): string {
    return join(this.sandboxDir(sandboxId), 'resolv.conf');
  }

  /** The sandbox's resolv.conf over /etc/resolv.conf, as containerd binds it, unless a volume is there. */
  private resolvConfMount(sandbox: SandboxRecord, mounts: readonly Mount[]): Mount[] {
    if (sandbox.config.dnsConfig === undefined || mounts.some((m) => m.containerPath === RESOLV_CONF)) return [];
    return [{ hostPath: this.resolvConfFile(sandbox.id), containerPath: RESOLV_CONF, readOnly: false }];
  }

  private sandboxFile(id: string): string {
    return join(this.sandboxDir(id), 'sandbox.json');
  }

  private containerDir(id: string): string {
    return join(this.options.rootDir, 'runtime', 'containers', id);
  }
}

/** Rejections are RuntimeErrors only, as the contract promises: a disk or spawn failure is Internal. */
async function internalOnFailure<T>(operation: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    throw new RuntimeError('Internal', `${operation}: ${message(error)}`);
  }
}

function criState(record: ContainerRecord): string {
  const names: Record<RecordState, string> = {
    created: 'CONTAINER_CREATED',
    starting: 'CONTAINER_CREATED',
    running: 'CONTAINER_RUNNING',
    exited: 'CONTAINER_EXITED',
  };
  return names[record.state];
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

