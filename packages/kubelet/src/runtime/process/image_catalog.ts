/**
 * The process runtime's images: a catalog mapping an image name to a program on this node, with an
 * entrypoint and a default command as an image's ENTRYPOINT and CMD. The catalog shipped with the
 * project is `packages/kubelet/images/catalog.json`; `--image-catalog FILE` adds or overrides entries
 * (same format). Any tag or digest of a catalog image is accepted.
 *
 * In an entry, `{node}` stands for the agent's own Node.js and `{dir}` for the catalog file's folder.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeError, type ImageInfo } from '../runtime.js';
import { InvalidReferenceError, parseImageReference, type ImageReference } from './image_reference.js';

export interface CatalogImage {
  /** The short repository name (`busybox`, `k8ts/http-echo`). */
  readonly name: string;
  readonly aliases: readonly string[];
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  /** The image's ENV, under the container's own. */
  readonly env: Readonly<Record<string, string>>;
  readonly workingDir?: string;
  readonly ports: readonly number[];
  readonly digest: string;
  readonly sizeBytes: number;
}

/** A pulled image: the catalog entry and the reference it was asked by. */
export interface ResolvedImage {
  readonly reference: ImageReference;
  readonly image: CatalogImage;
  /** `docker.io/library/busybox@sha256:…`, as containerd reports imageID. */
  readonly imageRef: string;
}

export const BUILTIN_CATALOG_PATH = fileURLToPath(new URL('../../../images/catalog.json', import.meta.url));

export class ImageCatalog {
  private readonly byName = new Map<string, CatalogImage>();

  /** Loads the built-in catalog, then each extra file over it (later entries override earlier ones). */
  constructor(files: readonly string[] = []) {
    for (const file of [BUILTIN_CATALOG_PATH, ...files]) this.load(file);
  }

  /** Resolves `image` or throws RuntimeError(InvalidImageName | ImageNotFound) with containerd's wording. */
  resolve(image: string): ResolvedImage {
    let reference: ImageReference;
    try {
      reference = parseImageReference(image);
    } catch (error) {
      if (error instanceof InvalidReferenceError) {
        throw new RuntimeError('InvalidImageName', `couldn't parse image name "${image}": ${error.message}`);
      }
      throw error;
    }
    const entry = this.byName.get(reference.shortName) ?? this.byName.get(reference.repository);
    if (entry === undefined) {
      const name = reference.fullName;
      throw new RuntimeError(
        'ImageNotFound',
        `failed to pull and unpack image "${name}": failed to resolve reference "${name}": ${name}: not found`,
      );
    }
    return { reference, image: entry, imageRef: `${reference.repository}@${entry.digest}` };
  }

  images(): readonly CatalogImage[] {
    return [...new Set(this.byName.values())];
  }

  /** As Node.status.images lists them: the digest name and the `latest` tag of each repository. */
  imageInfos(pulled: ReadonlySet<string>): ImageInfo[] {
    return this.images().map((image) => {
      const repository = parseImageReference(image.name).repository;
      const names = new Set([`${repository}@${image.digest}`, `${repository}:latest`]);
      for (const name of pulled) if (name.startsWith(`${repository}:`) || name.startsWith(`${repository}@`)) names.add(name);
      return { names: [...names], sizeBytes: image.sizeBytes };
    });
  }

  private load(file: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`image catalog ${file}: ${(error as Error).message}`);
    }
    const images = (parsed as { images?: unknown }).images;
    if (!Array.isArray(images)) throw new Error(`image catalog ${file}: "images" must be a list`);
    const dir = dirname(file);
    for (const raw of images) {
      const image = readEntry(raw, dir, file);
      for (const name of [image.name, ...image.aliases]) this.byName.set(parseImageReference(name).shortName, image);
    }
  }
}

function readEntry(raw: unknown, dir: string, file: string): CatalogImage {
  const entry = raw as Record<string, unknown>;
  const where = `image catalog ${file}: entry ${JSON.stringify(entry['name'] ?? '?')}`;
  const strings = (key: string): string[] => {
    const value = entry[key] ?? [];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${where}: "${key}" must be a list of strings`);
    return value.map((v: string) => v.replaceAll('{node}', process.execPath).replaceAll('{dir}', dir));
  };
  const name = entry['name'];
  if (typeof name !== 'string') throw new Error(`${where}: "name" must be a string`);
  try {
    parseImageReference(name);
  } catch {
    throw new Error(`${where}: invalid image name`);
  }
  const env = (entry['env'] ?? {}) as Record<string, unknown>;
  if (typeof env !== 'object' || Object.values(env).some((v) => typeof v !== 'string')) throw new Error(`${where}: "env" must map names to strings`);
  const ports = (entry['ports'] ?? []) as unknown[];
  const digest = typeof entry['digest'] === 'string' ? entry['digest'] : `sha256:${createHash('sha256').update(`k8ts-image:${name}`).digest('hex')}`;
  const workingDir = entry['workingDir'];
  return {
    name,
    aliases: strings('aliases'),
    entrypoint: strings('entrypoint'),
    cmd: strings('cmd'),
    env: env as Record<string, string>,
    ...(typeof workingDir === 'string' ? { workingDir } : {}),
    ports: ports.filter((p): p is number => typeof p === 'number'),
    digest,
    sizeBytes: typeof entry['sizeBytes'] === 'number' ? entry['sizeBytes'] : 0,
  };
}

/** Kubernetes' rule (as containerd applies it): command replaces ENTRYPOINT and drops CMD; args replace CMD. */
export function effectiveCommand(image: CatalogImage, command: readonly string[], args: readonly string[]): string[] {
  if (command.length > 0) return [...command, ...args];
  return [...image.entrypoint, ...(args.length > 0 ? args : image.cmd)];
}
