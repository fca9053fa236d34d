/**
 * The container runtime interface, shaped like Kubernetes' CRI (RuntimeService + ImageService), so
 * that the kubelet's pod workers never know whether a container is a process, a timer (the simulated
 * runtime) or, later, a real container.
 *
 * The promise every runtime keeps:
 * - Ids are opaque strings, unique for the runtime's lifetime and stable across a restart of the
 *   agent: a runtime that is started again over the same root dir lists the sandboxes and containers
 *   it had (`listPodSandboxes`, `listContainers`) with their true state — containers it can no longer
 *   follow are reported `exited` (exit code 255, reason `Unknown`), never running twice.
 * - The image's defaults are the runtime's to apply, as containerd does: an empty `command` takes the
 *   image's entrypoint, an empty `args` (when `command` is empty too) the image's default command. The
 *   kubelet has already expanded `$(VAR)` references.
 * - `startContainer` resolves once the container runs (or rejects with `RuntimeError`); when it ends,
 *   its status says `exited` with the exit code, `reason` (`Completed`, `Error`, `OOMKilled`,
 *   `ContainerCannotRun`) and `message`, and `onContainerExit` listeners are told (a hint: the pod
 *   worker then reads the status).
 * - `stopContainer` signals the container (SIGTERM to all its processes), waits up to `timeoutSeconds`,
 *   then kills it (SIGKILL); it resolves once nothing of it runs. Stopping a stopped container is a no-op.
 * - Everything a container writes to stdout and stderr goes to `logPath` in the CRI log format.
 * - Every method rejects only with `RuntimeError` (its `code` says why) and never leaves a
 *   half-created object behind.
 */

export type RuntimeErrorCode =
  | 'ImageNotFound' // pullImage: no such image (the kubelet reports ErrImagePull)
  | 'InvalidImageName' // pullImage: a name that cannot be parsed
  | 'NotFound' // no such sandbox or container
  | 'CannotRun' // createContainer/startContainer: the command does not exist or cannot start
  | 'NotRunning' // exec/attach into a container that is not running
  | 'Internal';

export class RuntimeError extends Error {
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

export interface RuntimeVersion {
  readonly runtimeName: string; // e.g. "k8ts-process"
  readonly runtimeVersion: string;
}

export interface ImageInfo {
  /** Every name the image answers to (with tags), as Node.status.images lists them. */
  readonly names: readonly string[];
  readonly sizeBytes: number;
}

export interface PortMapping {
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly containerPort: number;
  readonly hostPort?: number;
  readonly hostIP?: string;
}

export interface DnsConfig {
  readonly nameservers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

export interface PodSandboxConfig {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  /** Incremented each time the sandbox is re-created for the same pod. */
  readonly attempt: number;
  /** The pod's hostname (`hostname`, defaulting to the pod's name), for its UTS namespace. */
  readonly hostname: string;
  readonly subdomain?: string;
  readonly hostNetwork: boolean;
  /** The pod's log folder: `<root>/pods/<namespace>_<name>_<uid>`. */
  readonly logDirectory: string;
  readonly portMappings: readonly PortMapping[];
  /** The resolv.conf the runtime gives every container of the sandbox (CRI's DNSConfig); none: the node's. */
  readonly dnsConfig?: DnsConfig;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export type SandboxState = 'ready' | 'notready';

export interface PodSandboxStatus {
  readonly id: string;
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly attempt: number;
  readonly state: SandboxState;
  readonly createdAt: Date;
  /** The pod's IPs (first the primary), empty until the network is set up. */
  readonly ips: readonly string[];
}

export interface Mount {
  /** A path on the node (a volume's folder or file, prepared by the kubelet). */
  readonly hostPath: string;
  readonly containerPath: string;
  readonly readOnly: boolean;
}

export interface ContainerResources {
  readonly cpuRequestMillis?: number;
  readonly cpuLimitMillis?: number;
  readonly memoryRequestBytes?: number;
  readonly memoryLimitBytes?: number;
}

export interface ContainerConfig {
  readonly name: string;
  readonly image: string;
  /** Restart count of this container in the pod: the log file is `<logDirectory>/<name>/<attempt>.log`. */
  readonly attempt: number;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly workingDir?: string;
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly mounts: readonly Mount[];
  readonly logPath: string;
  readonly resources: ContainerResources;
  readonly stdin: boolean;
  readonly stdinOnce: boolean;
  readonly tty: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface ContainerStatus {
  readonly id: string;
  readonly sandboxId: string;
  readonly name: string;
  readonly attempt: number;
  readonly state: ContainerState;
  readonly image: string;
  /** The image's resolved reference (the catalog's digest), for containerStatuses[].imageID. */
  readonly imageRef: string;
  readonly createdAt: Date;
  readonly startedAt?: Date;
  readonly finishedAt?: Date;
  readonly exitCode?: number;
  /** For exited containers: Completed, Error, OOMKilled, ContainerCannotRun or Unknown. */
  readonly reason?: string;
  readonly message?: string;
  readonly logPath: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface ContainerStats {
  readonly id: string;
  readonly cpuUsageNanoCores: number;
  readonly memoryWorkingSetBytes: number;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
}

/** The streams of an interactive exec or attach: the caller's side. */
export interface StreamingIO {
  readonly stdin?: AsyncIterable<Uint8Array>;
  readonly stdout?: (chunk: Uint8Array) => void;
  /** Absent with a tty (stderr is merged into stdout). */
  readonly stderr?: (chunk: Uint8Array) => void;
  readonly tty: boolean;
  /** Terminal sizes as the client resizes (tty only). */
  readonly resize?: AsyncIterable<{ readonly width: number; readonly height: number }>;
  /** Aborted when the client goes away: the runtime then stops the exec'd process. */
  readonly closed: AbortSignal;
}

/** A byte stream to a port in a pod's network (port-forward). */
export interface PortStream {
  readonly input: AsyncIterable<Uint8Array>;
  readonly write: (chunk: Uint8Array) => void;
  readonly end: () => void;
  readonly closed: AbortSignal;
}

export interface ContainerFilter {
  readonly sandboxId?: string;
  readonly state?: ContainerState;
}

export interface Runtime {
  version(): RuntimeVersion;

  // ImageService
  /** Resolves the image reference (`imageRef`) or rejects with ImageNotFound / InvalidImageName. */
  pullImage(image: string): Promise<string>;
  listImages(): Promise<readonly ImageInfo[]>;

  // Sandboxes: the pod's shared context (network, hostname, log folder).
  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  stopPodSandbox(sandboxId: string): Promise<void>;
  removePodSandbox(sandboxId: string): Promise<void>;
  podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus>;
  listPodSandboxes(): Promise<readonly PodSandboxStatus[]>;

  // Containers
  createContainer(sandboxId: string, config: ContainerConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  containerStatus(containerId: string): Promise<ContainerStatus>;
  listContainers(filter?: ContainerFilter): Promise<readonly ContainerStatus[]>;
  containerStats(containerId: string): Promise<ContainerStats>;
  /** Called with the container's id whenever one of its processes ends it (exit, OOM kill, signal). */
  onContainerExit(listener: (containerId: string) => void): void;

  // Streaming
  /** Runs `command` in the container (its environment, working dir, mounts, network); bounded output. */
  execSync(containerId: string, command: readonly string[], timeoutSeconds: number): Promise<ExecResult>;
  /** Runs `command` in the container with the caller's streams; resolves to its exit code. */
  exec(containerId: string, command: readonly string[], io: StreamingIO): Promise<number>;
  /** Attaches to the container's main process (its stdin if it was created with `stdin`, and its output). */
  attach(containerId: string, io: StreamingIO): Promise<void>;
  /** Connects to `port` on the sandbox's network (the pod's IP, or the node's with host networking). */
  portForward(sandboxId: string, port: number, stream: PortStream): Promise<void>;

  /** Stops following containers (they keep running: the next start adopts them) and frees resources. */
  close(): Promise<void>;
}
