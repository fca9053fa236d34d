import { describe, expect, it } from 'vitest';
import { ImageCatalog, effectiveCommand } from './image_catalog.js';
import { parseImageReference } from './image_reference.js';

describe('image references', () => {
  it('normalises names as the Docker reference grammar does', () => {
    expect(parseImageReference('busybox')).toMatchObject({ fullName: 'docker.io/library/busybox:latest', shortName: 'busybox', tag: 'latest' });
    expect(parseImageReference('busybox:1.36').fullName).toBe('docker.io/library/busybox:1.36');
    expect(parseImageReference('docker.io/library/busybox:latest').shortName).toBe('busybox');
    expect(parseImageReference('k8ts/http-echo').fullName).toBe('docker.io/k8ts/http-echo:latest');
    expect(parseImageReference('registry.k8s.io/pause:3.9')).toMatchObject({ repository: 'registry.k8s.io/pause', shortName: 'registry.k8s.io/pause' });
    expect(parseImageReference('localhost:5000/app').repository).toBe('localhost:5000/app');
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseImageReference(`nginx@${digest}`)).toMatchObject({ fullName: `docker.io/library/nginx@${digest}`, digest });
    expect(parseImageReference(`nginx:1.27@${digest}`).fullName).toBe(`docker.io/library/nginx:1.27@${digest}`);
  });

  it('rejects what cannot be parsed', () => {
    expect(() => parseImageReference('Busybox')).toThrow('invalid reference format: repository name must be lowercase');
    for (const bad of ['', 'busybox:', 'busy box', 'nginx@sha256:short', '-x']) expect(() => parseImageReference(bad)).toThrow('invalid reference format');
  });
});

describe('the image catalog', () => {
  const catalog = new ImageCatalog();

  it('holds the images the issue names', () => {
    for (const name of ['k8ts/http-echo', 'k8ts/pause', 'k8ts/stress', 'busybox', 'alpine', 'debian', 'ubuntu', 'nginx', 'node', 'python']) {
      const resolved = catalog.resolve(name);
      expect(resolved.imageRef).toMatch(/@sha256:[0-9a-f]{64}$/);
      expect(resolved.image.sizeBytes).toBeGreaterThan(0);
    }
    expect(catalog.resolve('node:20').image.entrypoint).toEqual(['node']);
    expect(catalog.resolve('python').image.entrypoint).toEqual(['python3']);
    expect(catalog.resolve('registry.k8s.io/pause:3.9').image.name).toBe('k8ts/pause');
  });

  it('applies command and args over ENTRYPOINT and CMD as Kubernetes does', () => {
    const image = { ...catalog.resolve('busybox').image, entrypoint: ['/entry'], cmd: ['default'] };
    expect(effectiveCommand(image, [], [])).toEqual(['/entry', 'default']);
    expect(effectiveCommand(image, [], ['a'])).toEqual(['/entry', 'a']);
    expect(effectiveCommand(image, ['run'], [])).toEqual(['run']);
    expect(effectiveCommand(image, ['run'], ['a'])).toEqual(['run', 'a']);
    expect(effectiveCommand(catalog.resolve('busybox').image, [], [])).toEqual(['sh']);
  });
});
