import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file that exists only in the repository's proto/ folder, used to recognise it. */
const MARKER = join('etcd', 'etcdserverpb', 'rpc.proto');

/**
 * The repository's proto/ folder. Found by walking up from this module, so the same code works from
 * src/ (vitest), from dist/ (node) and from any copy of the tree that keeps proto/ beside packages/.
 */
export function findProtoRoot(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, MARKER))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`@k8ts/proto: no proto/${MARKER} in any parent of ${fileURLToPath(fromUrl)}`);
    }
    dir = parent;
  }
}
