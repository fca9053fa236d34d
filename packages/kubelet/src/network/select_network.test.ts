import { describe, expect, it } from 'vitest';
import type { PodSandboxConfig } from '../runtime/runtime.js';
import { hostNetwork } from './host_network.js';
import { canUseNamespaces, namespaceSupport } from './privileges.js';
import { selectPodNetwork } from './select_network.js';

const config = { name: 'p', hostname: 'p', hostNetwork: false } as PodSandboxConfig;

describe('hostNetwork', () => {
  it("gives every pod the node's address and nothing to enter", async () => {
    const network = hostNetwork('192.0.2.7');
    expect(network.mode).toBe('host');
    expect(await network.setUp('s1', config)).toEqual({ ips: ['192.0.2.7'], enter: [] });
    await network.tearDown('s1');
    expect(await network.reconcile([])).toEqual([]);
  });
});

describe('namespaceSupport', () => {
  const status = (capEff: string): string => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

  it('needs CAP_NET_ADMIN and CAP_SYS_ADMIN, whoever the user, and the tools', () => {
    expect(namespaceSupport({ platform: 'linux', status: status('000001ffffffffff'), missingTools: [] })).toEqual({ ok: true });
    // Exactly the two capabilities (bits 12 and 21), as a container granted them has.
    expect(namespaceSupport({ platform: 'linux', status: status('0000000000201000'), missingTools: [] })).toEqual({ ok: true });
    // Docker's default set for root: no NET_ADMIN, no SYS_ADMIN.
    expect(namespaceSupport({ platform: 'linux', status: status('00000000a80425fb'), missingTools: [] })).toEqual({
      ok: false,
      reason: 'without CAP_NET_ADMIN and CAP_SYS_ADMIN (not root, or an unprivileged container)',
    });
    expect(namespaceSupport({ platform: 'linux', status: status('0000000000001000'), missingTools: [] }).ok).toBe(false);
    expect(namespaceSupport({ platform: 'linux', status: status('000001ffffffffff'), missingTools: ['ip'] })).toEqual({
      ok: false,
      reason: 'missing on PATH: ip (iproute2, util-linux)',
    });
    expect(namespaceSupport({ platform: 'darwin', status: '', missingTools: [] }).ok).toBe(false);
  });
});

describe('selectPodNetwork', () => {
  const options = { rootDir: '/nonexistent', podCIDR: '10.244.0.0/24', nodeIP: '192.0.2.7' };

  it('runs host mode when asked, and namespaced mode when the agent may', async () => {
    expect((await selectPodNetwork({ ...options, mode: 'host' })).mode).toBe('host');
    const support = await canUseNamespaces();
    expect((await selectPodNetwork(options)).mode).toBe(support.ok ? 'namespaced' : 'host');
    if (support.ok) {
      expect((await selectPodNetwork({ ...options, mode: 'namespaced' })).mode).toBe('namespaced');
    } else {
      await expect(selectPodNetwork({ ...options, mode: 'namespaced' })).rejects.toThrow(support.reason);
    }
  });
});
