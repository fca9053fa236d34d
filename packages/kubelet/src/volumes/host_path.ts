import { mkdir, open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';

/**
 * hostPath's `type` check, as upstream's checkType: the *OrCreate types create what is missing
 * (a folder 0755, an empty file 0644), the others require what is there; "" checks nothing.
 */
export async function checkHostPathType(hostPath: string, type: string | undefined): Promise<void> {
  const info = await stat(hostPath).catch(() => undefined);
  const fail = (what: string) => new Error(`hostPath type check failed: ${hostPath} is not ${what}`);
  const is = (test: (stats: Stats) => boolean) => info !== undefined && test(info);
  switch (type ?? '') {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (info === undefined) return void (await mkdir(hostPath, { recursive: true, mode: 0o755 }));
      if (!is((s) => s.isDirectory())) throw fail('a directory');
      return;
    case 'Directory':
      if (!is((s) => s.isDirectory())) throw fail('a directory');
      return;
    case 'FileOrCreate':
      if (info === undefined) return void (await (await open(hostPath, 'a', 0o644)).close());
      if (!is((s) => s.isFile())) throw fail('a file');
      return;
    case 'File':
      if (!is((s) => s.isFile())) throw fail('a file');
      return;
    case 'Socket':
      if (!is((s) => s.isSocket())) throw fail('a socket file');
      return;
    case 'CharDevice':
      if (!is((s) => s.isCharacterDevice())) throw fail('a character device');
      return;
    case 'BlockDevice':
      if (!is((s) => s.isBlockDevice())) throw fail('a block device');
      return;
    default:
      throw new Error(`${type} is an invalid volume type`);
  }
}
