import { chmod, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Container, EphemeralContainer, Pod, ServiceAccountTokenProjection, Volume, VolumeMount } from 'kubernetes-types/core/v1.js';
import { integerValue, parseQuantity } from '@k8ts/apimachinery';
import type { Mount } from '../runtime/runtime.js';
import type { ObjectLookup } from '../container/object_lookup.js';
import { metadataFieldValue, type Allocatable } from '../container/downward_api.js';
import { expand } from '../container/expansion.js';
import { writeAtomically, type FileProjection } from './atomic_writer.js';
import { checkHostPathType } from './host_path.js';
import { configMapPayload, DEFAULT_MODE, downwardAPIPayload, secretPayload } from './payloads.js';
import { mayMount, mountsUnder, mountTmpfs, unmount } from './tmpfs.js';
import type { VolumeMounts } from './volume_mounts.js';

/**
 * A pod's volumes on the node. Each volume is a folder
 * `<rootDir>/pods-data/<podUid>/volumes/<plugin>/<volume>` (plugin names as upstream's, e.g.
 * `kubernetes.io~configmap`), except hostPath, which is the node's path itself. `setUp` is called for
 * every sync of the pod: it creates what is missing and refreshes ConfigMap, Secret, downward API and
 * projected files (atomically, see atomic_writer.ts); emptyDir contents are kept. `tearDown` unmounts
 * (memory-backed emptyDirs) and removes the pod's folder.
 */

export interface VolumeManagerOptions {
  readonly rootDir: string;
  readonly lookup: ObjectLookup;
  /** Node.status.allocatable, for downward API resource files of containers without limits. */
  readonly nodeAllocatable?: () => Allocatable | undefined;
  /** Mount tmpfs for `emptyDir.medium: Memory` (default: when running as root). */
  readonly memoryMedium?: boolean;
}

export interface VolumeFailure {
  readonly volume: string;
  /** As upstream's FailedMount event: `MountVolume.SetUp failed for volume "x" : <cause>`. */
  readonly message: string;
}

/** Volumes that could not be set up: the pod worker records a FailedMount event per failure and keeps the containers in ContainerCreating. */
export class VolumeSetUpError extends Error {
  readonly reason = 'FailedMount';
  constructor(readonly failures: readonly VolumeFailure[]) {
    super(failures.map((failure) => failure.message).join('; '));
    this.name = 'VolumeSetUpError';
  }
}

/** What an emptyDir turned out to be (for eviction's sizeLimit checks and for the report). */
export interface EmptyDirInfo {
  readonly volume: string;
  readonly path: string;
  readonly medium: string;
  readonly tmpfs: boolean;
  readonly sizeLimitBytes?: number;
}

const PLUGIN_DIRS: Readonly<Record<string, string>> = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
};

interface PreparedVolume {
  readonly path: string;
  /** ConfigMap, Secret, downward API and projected volumes are always mounted read-only, as upstream. */
  readonly apiData: boolean;
}

export class VolumeManager {
  private readonly podsDir: string;
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly emptyDirInfo = new Map<string, EmptyDirInfo[]>();

  constructor(private readonly options: VolumeManagerOptions) {
    this.podsDir = path.join(options.rootDir, 'pods-data');
  }

  /** The pod's folder for volume data. */
  podDir(podUid: string): string {
    return path.join(this.podsDir, podUid);
  }

  /** Sets up (or refreshes) the pod's volumes and answers each container's mounts. */
  setUp(pod: Pod): Promise<VolumeMounts> {
    return this.serialized(podUidOf(pod), () => this.setUpNow(pod));
  }

  /** Unmounts and removes everything of the pod; a no-op for a pod with nothing on disk. */
  tearDown(podUid: string): Promise<void> {
    return this.serialized(podUid, async () => {
      const dir = this.podDir(podUid);
      for (const point of await mountsUnder(dir)) await unmount(point);
      await rm(dir, { recursive: true, force: true });
      this.emptyDirInfo.delete(podUid);
    });
  }

  /** Pods that have volume data on disk (a restarted kubelet tears down those it no longer runs). */
  async podUids(): Promise<string[]> {
    return readdir(this.podsDir).catch(() => []);
  }

  emptyDirs(podUid: string): readonly EmptyDirInfo[] {
    return this.emptyDirInfo.get(podUid) ?? [];
  }

  private async setUpNow(pod: Pod): Promise<VolumeMounts> {
    const prepared = new Map<string, PreparedVolume>();
    const failures: VolumeFailure[] = [];
    const emptyDirs: EmptyDirInfo[] = [];
    for (const volume of pod.spec?.volumes ?? []) {
      try {
        prepared.set(volume.name, await this.prepare(pod, volume, emptyDirs));
      } catch (error) {
        failures.push({ volume: volume.name, message: `MountVolume.SetUp failed for volume "${volume.name}" : ${messageOf(error)}` });
      }
    }
    this.emptyDirInfo.set(podUidOf(pod), emptyDirs);
    if (failures.length > 0) throw new VolumeSetUpError(failures);

    const mounts: Record<string, Mount[]> = {};
    const containers: (Container | EphemeralContainer)[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
    for (const container of containers) {
      const list: Mount[] = [];
      for (const volumeMount of container.volumeMounts ?? []) {
        try {
          list.push(await this.mountFor(pod, container, volumeMount, prepared));
        } catch (error) {
          failures.push({ volume: volumeMount.name, message: messageOf(error) });
        }
      }
      mounts[container.name] = list;
    }
    if (failures.length > 0) throw new VolumeSetUpError(failures);
    return mounts;
  }

  private async mountFor(pod: Pod, container: Container | EphemeralContainer, volumeMount: VolumeMount, prepared: ReadonlyMap<string, PreparedVolume>): Promise<Mount> {
    const volume = prepared.get(volumeMount.name);
    if (volume === undefined) throw new Error(`cannot find volume "${volumeMount.name}" to mount into container "${container.name}"`);
    let subPath = volumeMount.subPath ?? '';
    if (volumeMount.subPathExpr) subPath = expandSubPath(volumeMount.subPathExpr, pod, container);
    let hostPath = volume.path;
    if (subPath !== '') {
      if (path.isAbsolute(subPath) || subPath.split('/').includes('..')) throw new Error(`invalid subpath "${subPath}" for volumeMount "${volumeMount.name}"`);
      hostPath = path.join(volume.path, subPath);
      const exists = await stat(hostPath).then(() => true, () => false);
      if (!exists) {
        const mode = (await stat(volume.path)).mode & 0o7777;
        await mkdir(hostPath, { recursive: true, mode }).catch(() => {
          throw new Error(`failed to create subPath directory for volumeMount "${volumeMount.name}" of container "${container.name}"`);
        });
      }
    }
    return { hostPath, containerPath: volumeMount.mountPath, readOnly: volume.apiData || volumeMount.readOnly === true };
  }

  private async prepare(pod: Pod, volume: Volume, emptyDirs: EmptyDirInfo[]): Promise<PreparedVolume> {
    const dirFor = (kind: string) => path.join(this.podDir(podUidOf(pod)), 'volumes', PLUGIN_DIRS[kind] ?? kind, volume.name);
    const namespace = pod.metadata?.namespace ?? 'default';
    if (volume.emptyDir !== undefined) {
      const dir = dirFor('emptyDir');
      emptyDirs.push(await this.setUpEmptyDir(volume.name, dir, volume.emptyDir.medium ?? '', volume.emptyDir.sizeLimit));
      return { path: dir, apiData: false };
    }
    if (volume.hostPath !== undefined) {
      await checkHostPathType(volume.hostPath.path, volume.hostPath.type);
      return { path: volume.hostPath.path, apiData: false };
    }
    if (volume.configMap !== undefined) {
      const source = volume.configMap;
      const optional = source.optional === true;
      const configMap = await this.options.lookup.configMap(namespace, source.name ?? '');
      if (configMap === undefined && !optional) throw new Error(`configmap "${source.name ?? ''}" not found`);
      const payload = configMap === undefined ? new Map() : configMapPayload(configMap, source.items, source.defaultMode ?? DEFAULT_MODE, optional);
      return this.writeApiData(dirFor('configMap'), payload);
    }
    if (volume.secret !== undefined) {
      const source = volume.secret;
      const optional = source.optional === true;
      const secret = await this.options.lookup.secret(namespace, source.secretName ?? '');
      if (secret === undefined && !optional) throw new Error(`secret "${source.secretName ?? ''}" not found`);
      const payload = secret === undefined ? new Map() : secretPayload(secret, source.items, source.defaultMode ?? DEFAULT_MODE, optional);
      return this.writeApiData(dirFor('secret'), payload);
    }
    if (volume.downwardAPI !== undefined) {
      const payload = downwardAPIPayload(pod, volume.downwardAPI.items ?? [], volume.downwardAPI.defaultMode ?? DEFAULT_MODE, this.allocatable());
      return this.writeApiData(dirFor('downwardAPI'), payload);
    }
    if (volume.projected !== undefined) {
      return this.writeApiData(dirFor('projected'), await this.projectedPayload(pod, volume));
    }
    throw new Error(`volume type of "${volume.name}" is not supported by this kubelet (supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected)`);
  }

  private async setUpEmptyDir(name: string, dir: string, medium: string, sizeLimit: string | undefined): Promise<EmptyDirInfo> {
    const sizeLimitBytes = sizeLimit === undefined ? undefined : integerValue(parseQuantity(sizeLimit));
    const info = (tmpfs: boolean): EmptyDirInfo => ({ volume: name, path: dir, medium, tmpfs, ...(sizeLimitBytes !== undefined ? { sizeLimitBytes } : {}) });
    if (medium !== '' && medium !== 'Memory') throw new Error(`emptyDir medium ${medium} is not supported`);
    await mkdir(dir, { recursive: true });
    if (medium === 'Memory' && (this.options.memoryMedium ?? mayMount())) {
      if ((await mountsUnder(dir)).includes(dir)) return info(true);
      // Root without CAP_SYS_ADMIN (an unprivileged container) cannot mount: a plain folder then.
      const mounted = await mountTmpfs(dir, sizeLimitBytes).then(() => true, () => false);
      if (mounted) return info(true);
    }
    await chmod(dir, 0o777); // emptyDir is world-writable, as upstream's
    return info(false);
  }

  private async projectedPayload(pod: Pod, volume: Volume): Promise<Map<string, FileProjection>> {
    const source = volume.projected!;
    const defaultMode = source.defaultMode ?? DEFAULT_MODE;
    const namespace = pod.metadata?.namespace ?? 'default';
    const payload = new Map<string, FileProjection>();
    const errors: string[] = [];
    const merge = (files: ReadonlyMap<string, FileProjection>) => files.forEach((file, name) => payload.set(name, file));
    for (const projection of source.sources ?? []) {
      try {
        if (projection.configMap !== undefined) {
          const { name = '', items, optional } = projection.configMap;
          const configMap = await this.options.lookup.configMap(namespace, name);
          if (configMap === undefined) {
            if (optional !== true) throw new Error(`configmap "${name}" not found`);
          } else merge(configMapPayload(configMap, items, defaultMode, optional === true));
        } else if (projection.secret !== undefined) {
          const { name = '', items, optional } = projection.secret;
          const secret = await this.options.lookup.secret(namespace, name);
          if (secret === undefined) {
            if (optional !== true) throw new Error(`secret "${name}" not found`);
          } else merge(secretPayload(secret, items, defaultMode, optional === true));
        } else if (projection.downwardAPI !== undefined) {
          merge(downwardAPIPayload(pod, projection.downwardAPI.items ?? [], defaultMode, this.allocatable()));
        } else if (projection.serviceAccountToken !== undefined) {
          const token = projection.serviceAccountToken;
          payload.set(token.path, { data: Buffer.from(placeholderToken(pod, token), 'utf8'), mode: defaultMode });
        }
      } catch (error) {
        errors.push(messageOf(error));
      }
    }
    if (errors.length === 1) throw new Error(errors[0]);
    if (errors.length > 1) throw new Error(`[${errors.join(', ')}]`);
    return payload;
  }

  private async writeApiData(dir: string, payload: ReadonlyMap<string, FileProjection>): Promise<PreparedVolume> {
    await writeAtomically(dir, payload);
    return { path: dir, apiData: true };
  }

  private allocatable(): Allocatable {
    return this.options.nodeAllocatable?.() ?? {};
  }

  private serialized<T>(podUid: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(podUid) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.queues.set(podUid, settled);
    void settled.then(() => {
      if (this.queues.get(podUid) === settled) this.queues.delete(podUid);
    });
    return next;
  }
}

/**
 * This cluster has no TokenRequest API (no signing keys), so a serviceAccountToken projection is an
 * unsigned JWT (`alg: none`) carrying the claims a real one would: readable, never accepted as proof.
 */
function placeholderToken(pod: Pod, projection: ServiceAccountTokenProjection): string {
  const namespace = pod.metadata?.namespace ?? 'default';
  const serviceAccount = pod.spec?.serviceAccountName || 'default';
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = {
    aud: [projection.audience ?? 'https://kubernetes.default.svc.cluster.local'],
    iss: 'https://kubernetes.default.svc.cluster.local',
    sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
    'kubernetes.io': { namespace, pod: { name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' }, serviceaccount: { name: serviceAccount } },
  };
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}

/** subPathExpr against the container's literal env values and metadata fieldRefs; as upstream, an unset variable is an error. */
function expandSubPath(expression: string, pod: Pod, container: Container | EphemeralContainer): string {
  const env = new Map<string, string>();
  for (const variable of container.env ?? []) {
    if (variable.valueFrom?.fieldRef !== undefined) {
      try {
        env.set(variable.name, metadataFieldValue(variable.valueFrom.fieldRef.fieldPath, pod));
      } catch {
        // status.* fields are not known here: left unset
      }
    } else if (variable.valueFrom === undefined) env.set(variable.name, expand(variable.value ?? '', (name) => env.get(name)));
  }
  const missing = new Set<string>();
  const expanded = expand(expression, (name) => {
    const value = env.get(name);
    if (value === undefined || value === '') missing.add(name);
    return value ?? '';
  });
  if (missing.size > 0) throw new Error(`missing value for ${[...missing].sort().join(', ')}`);
  return expanded;
}

function podUidOf(pod: Pod): string {
  const uid = pod.metadata?.uid;
  if (!uid) throw new Error('pod has no metadata.uid');
  return uid;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
