import { lstat, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigMap, Pod, Secret, Volume } from 'kubernetes-types/core/v1.js';
import type { ObjectLookup } from '../container/object_lookup.js';
import { writeAtomically } from './atomic_writer.js';
import { mountsUnder } from './tmpfs.js';
import { VolumeManager, VolumeSetUpError } from './volume_manager.js';

let root: string;
let configMaps: Map<string, ConfigMap>;
let secrets: Map<string, Secret>;
const lookup: ObjectLookup = {
  configMap: (ns, name) => configMaps.get(`${ns}/${name}`),
  secret: async (ns, name) => secrets.get(`${ns}/${name}`),
  services: () => [],
};

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'k8ts-volumes-'));
  configMaps = new Map();
  secrets = new Map();
});
afterEach(async () => {
  for (const point of await mountsUnder(root)) await import('./tmpfs.js').then((m) => m.unmount(point));
  await rm(root, { recursive: true, force: true });
});

function pod(volumes: Volume[], mounts: { name: string; mountPath: string; subPath?: string; subPathExpr?: string; readOnly?: boolean }[] = [], labels: Record<string, string> = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'ns', uid: 'uid-1', labels },
    spec: { containers: [{ name: 'app', volumeMounts: mounts, env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }], volumes },
  };
}

const volumesDir = () => path.join(root, 'pods-data', 'uid-1', 'volumes');
const b64 = (text: string) => Buffer.from(text).toString('base64');
const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

describe('VolumeManager', () => {
  it('writes a ConfigMap volume (all keys, or items with paths and modes) and refreshes it atomically on a new setUp', async () => {
    configMaps.set('ns/cfg', { metadata: { name: 'cfg' }, data: { 'index.html': 'v1', 'app.conf': 'x=1' }, binaryData: { 'blob.bin': b64('\u0001\u0002') } });
    const manager = new VolumeManager({ rootDir: root, lookup });
    const spec = pod(
      [
        { name: 'all', configMap: { name: 'cfg', defaultMode: 0o600 } },
        { name: 'some', configMap: { name: 'cfg', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o640 }] } },
      ],
      [{ name: 'all', mountPath: '/usr/share/nginx/html' }, { name: 'some', mountPath: '/etc/app' }],
    );
    const mounts = await manager.setUp(spec);
    const all = path.join(volumesDir(), 'kubernetes.io~configmap', 'all');
    const some = path.join(volumesDir(), 'kubernetes.io~configmap', 'some');
    expect(mounts['app']).toEqual([
      { hostPath: all, containerPath: '/usr/share/nginx/html', readOnly: true },
      { hostPath: some, containerPath: '/etc/app', readOnly: true },
    ]);
    expect(await readFile(path.join(all, 'index.html'), 'utf8')).toBe('v1');
    expect(await readFile(path.join(all, 'blob.bin'))).toEqual(Buffer.from([1, 2]));
    expect(await modeOf(path.join(all, 'index.html'))).toBe(0o600);
    expect(await readFile(path.join(some, 'conf/app.conf'), 'utf8')).toBe('x=1');
    expect(await modeOf(path.join(some, 'conf/app.conf'))).toBe(0o640);
    expect((await lstat(path.join(all, 'index.html'))).isSymbolicLink()).toBe(true);
    const firstTarget = await readlink(path.join(all, '..data'));

    await manager.setUp(spec); // unchanged: nothing rewritten
    expect(await readlink(path.join(all, '..data'))).toBe(firstTarget);

    configMaps.set('ns/cfg', { metadata: { name: 'cfg' }, data: { 'index.html': 'v2', 'app.conf': 'x=1' } });
    await manager.setUp(spec);
    expect(await readFile(path.join(all, 'index.html'), 'utf8')).toBe('v2');
    expect(await lstat(path.join(all, 'blob.bin')).catch(() => undefined)).toBeUndefined();
    expect((await readdir(all)).filter((name) => name.startsWith('..')).sort()).toEqual(['..data', await readlink(path.join(all, '..data'))].sort());
  });

  it('fails a missing ConfigMap or Secret, or a missing item key, as upstream; optional ones give an empty volume', async () => {
    const manager = new VolumeManager({ rootDir: root, lookup });
    configMaps.set('ns/cfg', { metadata: { name: 'cfg' }, data: {} });
    const failure = await manager
      .setUp(
        pod([
          { name: 'conf', configMap: { name: 'absent' } },
          { name: 'creds', secret: { secretName: 'nope' } },
          { name: 'keyed', configMap: { name: 'cfg', items: [{ key: 'k', path: 'k' }] } },
          { name: 'fine', configMap: { name: 'absent', optional: true } },
        ]),
      )
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(VolumeSetUpError);
    expect((failure as VolumeSetUpError).reason).toBe('FailedMount');
    expect((failure as VolumeSetUpError).failures).toEqual([
      { volume: 'conf', message: 'MountVolume.SetUp failed for volume "conf" : configmap "absent" not found' },
      { volume: 'creds', message: 'MountVolume.SetUp failed for volume "creds" : secret "nope" not found' },
      { volume: 'keyed', message: 'MountVolume.SetUp failed for volume "keyed" : configmap references non-existent config key: k' },
    ]);
    const fine = (await readdir(path.join(volumesDir(), 'kubernetes.io~configmap', 'fine'))).sort();
    expect(fine).toEqual([expect.stringMatching(/^\.\.\d{4}_/), '..data']);
  });

  it('decodes Secrets, writes downward API files that follow label changes, and projects several sources', async () => {
    secrets.set('ns/creds', { metadata: { name: 'creds' }, data: { password: b64('s3cret'), user: b64('admin') } });
    configMaps.set('ns/kube-root-ca.crt', { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'PEM' } });
    const manager = new VolumeManager({ rootDir: root, lookup });
    const volumes: Volume[] = [
      { name: 'creds', secret: { secretName: 'creds', defaultMode: 0o400 } },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
      {
        name: 'api',
        projected: {
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
            { secret: { name: 'creds', items: [{ key: 'user', path: 'user' }] } },
          ],
        },
      },
    ];
    await manager.setUp(pod(volumes, [], { app: 'web' }));
    const dir = (plugin: string, name: string) => path.join(volumesDir(), plugin, name);
    expect(await readFile(path.join(dir('kubernetes.io~secret', 'creds'), 'password'), 'utf8')).toBe('s3cret');
    expect(await modeOf(path.join(dir('kubernetes.io~secret', 'creds'), 'password'))).toBe(0o400);
    expect(await readFile(path.join(dir('kubernetes.io~downward-api', 'info'), 'labels'), 'utf8')).toBe('app="web"');
    const api = dir('kubernetes.io~projected', 'api');
    expect((await readdir(api)).filter((name) => !name.startsWith('..')).sort()).toEqual(['ca.crt', 'namespace', 'token', 'user']);
    expect(await readFile(path.join(api, 'namespace'), 'utf8')).toBe('ns');
    const claims = JSON.parse(Buffer.from((await readFile(path.join(api, 'token'), 'utf8')).split('.')[1] ?? '', 'base64url').toString()) as { sub: string };
    expect(claims.sub).toBe('system:serviceaccount:ns:default');

    await manager.setUp(pod(volumes, [], { app: 'web', version: '2' }));
    expect(await readFile(path.join(dir('kubernetes.io~downward-api', 'info'), 'labels'), 'utf8')).toBe('app="web"\nversion="2"');
  });

  it('keeps emptyDir contents across syncs, mounts tmpfs for medium Memory when root, and tears everything down', async () => {
    const manager = new VolumeManager({ rootDir: root, lookup });
    const spec = pod(
      [
        { name: 'scratch', emptyDir: {} },
        { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      ],
      [{ name: 'scratch', mountPath: '/scratch' }, { name: 'scratch', mountPath: '/logs', subPath: 'logs/app' }, { name: 'cache', mountPath: '/cache', subPathExpr: '$(POD)' }],
    );
    const mounts = await manager.setUp(spec);
    const scratch = path.join(volumesDir(), 'kubernetes.io~empty-dir', 'scratch');
    const cache = path.join(volumesDir(), 'kubernetes.io~empty-dir', 'cache');
    expect(mounts['app']).toEqual([
      { hostPath: scratch, containerPath: '/scratch', readOnly: false },
      { hostPath: path.join(scratch, 'logs/app'), containerPath: '/logs', readOnly: false },
      { hostPath: path.join(cache, 'web'), containerPath: '/cache', readOnly: false },
    ]);
    expect(await modeOf(scratch)).toBe(0o777);
    expect((await stat(path.join(scratch, 'logs/app'))).isDirectory()).toBe(true);
    await writeFile(path.join(scratch, 'kept'), 'data');
    await manager.setUp(spec);
    expect(await readFile(path.join(scratch, 'kept'), 'utf8')).toBe('data');

    // As root (this machine) the Memory emptyDir is a tmpfs; where mount(2) is not permitted, a folder: the report must say which.
    const mounted = (await mountsUnder(cache)).includes(cache);
    if (process.getuid?.() !== 0) expect(mounted).toBe(false);
    expect(manager.emptyDirs('uid-1')).toEqual([
      { volume: 'scratch', path: scratch, medium: '', tmpfs: false },
      { volume: 'cache', path: cache, medium: 'Memory', tmpfs: mounted, sizeLimitBytes: 16 * 2 ** 20 },
    ]);

    expect(await manager.podUids()).toEqual(['uid-1']);
    await manager.tearDown('uid-1');
    expect(await mountsUnder(root)).toEqual([]);
    expect(await stat(path.join(root, 'pods-data', 'uid-1')).catch(() => undefined)).toBeUndefined();
    await manager.tearDown('uid-1'); // a no-op the second time
  });

  it('checks hostPath types with upstream messages', async () => {
    const manager = new VolumeManager({ rootDir: root, lookup });
    const file = path.join(root, 'a-file');
    await writeFile(file, 'x');
    const socketPath = path.join(root, 'sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const created = path.join(root, 'made/deep');
      const createdFile = path.join(root, 'made-file');
      const mounts = await manager.setUp(
        pod(
          [
            { name: 'd', hostPath: { path: created, type: 'DirectoryOrCreate' } },
            { name: 'f', hostPath: { path: createdFile, type: 'FileOrCreate' } },
            { name: 's', hostPath: { path: socketPath, type: 'Socket' } },
            { name: 'any', hostPath: { path: path.join(root, 'nothing-here') } },
          ],
          [{ name: 'd', mountPath: '/d', readOnly: true }, { name: 's', mountPath: '/run/s.sock' }],
        ),
      );
      expect(mounts['app']).toEqual([
        { hostPath: created, containerPath: '/d', readOnly: true },
        { hostPath: socketPath, containerPath: '/run/s.sock', readOnly: false },
      ]);
      expect((await stat(created)).isDirectory() && (await stat(createdFile)).isFile()).toBe(true);

      const failure = (await manager
        .setUp(
          pod([
            { name: 'd', hostPath: { path: file, type: 'Directory' } },
            { name: 'f', hostPath: { path: root, type: 'File' } },
            { name: 's', hostPath: { path: file, type: 'Socket' } },
            { name: 'c', hostPath: { path: file, type: 'CharDevice' } },
            { name: 'x', hostPath: { path: file, type: 'Bogus' } },
          ]),
        )
        .catch((error: unknown) => error)) as VolumeSetUpError;
      expect(failure.failures.map((f) => f.message)).toEqual([
        `MountVolume.SetUp failed for volume "d" : hostPath type check failed: ${file} is not a directory`,
        `MountVolume.SetUp failed for volume "f" : hostPath type check failed: ${root} is not a file`,
        `MountVolume.SetUp failed for volume "s" : hostPath type check failed: ${file} is not a socket file`,
        `MountVolume.SetUp failed for volume "c" : hostPath type check failed: ${file} is not a character device`,
        'MountVolume.SetUp failed for volume "x" : Bogus is an invalid volume type',
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fails a subPathExpr whose variable is unset', async () => {
    const manager = new VolumeManager({ rootDir: root, lookup });
    await mkdir(root, { recursive: true });
    const failure = (await manager.setUp(pod([{ name: 'v', emptyDir: {} }], [{ name: 'v', mountPath: '/v', subPathExpr: '$(NOPE)/x' }])).catch((error: unknown) => error)) as VolumeSetUpError;
    expect(failure.failures).toEqual([{ volume: 'v', message: 'missing value for NOPE' }]);
  });
});

describe('writeAtomically', () => {
  it('never lets a reader see a partly written file while versions are swapped', async () => {
    const dir = path.join(root, 'atomic');
    const version = (n: number) => `${String(n).padStart(4, '0')}:${'x'.repeat(256 * 1024)}`;
    await writeAtomically(dir, new Map([['data', { data: Buffer.from(version(0)), mode: 0o644 }]]));
    let writing = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (writing) {
        const content = await readFile(path.join(dir, 'data'), 'utf8').catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return undefined; // the old folder removed between open's path steps
          throw error;
        });
        if (content === undefined) continue;
        expect(content.length).toBe(version(0).length);
        seen.add(content.slice(0, 4));
      }
    })();
    for (let n = 1; n <= 20; n++) await writeAtomically(dir, new Map([['data', { data: Buffer.from(version(n)), mode: 0o644 }]]));
    writing = false;
    await reader;
    expect(await readFile(path.join(dir, 'data'), 'utf8')).toBe(version(20));
    expect(seen.size).toBeGreaterThan(0);
  });

  it('rejects paths upstream rejects', async () => {
    for (const bad of ['/abs', '../up', 'a/../b', '..hidden']) {
      await expect(writeAtomically(path.join(root, 'bad'), new Map([[bad, { data: Buffer.from(''), mode: 0o644 }]]))).rejects.toThrow(/invalid path/);
    }
  });
});
