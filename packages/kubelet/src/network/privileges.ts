import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** The programs the namespaced pod network runs. */
const NAMESPACE_TOOLS = ['ip', 'unshare', 'nsenter', 'mount', 'umount', 'hostname'];
const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;

/** Whether `program` is an executable on PATH (as `which` answers). */
export async function onPath(program: string): Promise<boolean> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      await access(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

export type NamespaceSupport = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Whether this process may give pods namespaces of their own: CAP_NET_ADMIN and CAP_SYS_ADMIN in its
 * effective set (root on a host has them; root in an unprivileged container does not), and the tools
 * on PATH.
 */
export async function canUseNamespaces(): Promise<NamespaceSupport> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const missingTools: string[] = [];
  for (const tool of NAMESPACE_TOOLS) if (!(await onPath(tool))) missingTools.push(tool);
  return namespaceSupport({ platform: process.platform, status, missingTools });
}

/** The decision of canUseNamespaces from what it read: `status` is /proc/self/status. */
export function namespaceSupport(facts: {
  readonly platform: string;
  readonly status: string;
  readonly missingTools: readonly string[];
}): NamespaceSupport {
  if (facts.platform !== 'linux') return { ok: false, reason: `namespaces need Linux (this is ${facts.platform})` };
  const effective = /^CapEff:\s*([0-9a-f]+)$/m.exec(facts.status)?.[1];
  const capabilities = effective === undefined ? 0n : BigInt(`0x${effective}`);
  const has = (bit: bigint): boolean => ((capabilities >> bit) & 1n) === 1n;
  if (!(has(CAP_NET_ADMIN) && has(CAP_SYS_ADMIN))) {
    return { ok: false, reason: 'without CAP_NET_ADMIN and CAP_SYS_ADMIN (not root, or an unprivileged container)' };
  }
  if (facts.missingTools.length > 0) {
    return { ok: false, reason: `missing on PATH: ${facts.missingTools.join(', ')} (iproute2, util-linux)` };
  }
  return { ok: true };
}
