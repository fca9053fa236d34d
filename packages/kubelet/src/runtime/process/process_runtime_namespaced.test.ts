/**
 * The process runtime over the real namespaced pod network (H7's): containers in the pod's network and
 * UTS namespaces, exec entering the container's namespaces, port-forward inside the pod's network.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { namespacedNetwork } from '../../network/namespaced_network.js';
import { canUseNamespaces } from '../../network/privileges.js';
import { removePodNetwork } from '../../network/remove_pod_network.js';
import { ProcessRuntime } from './process_runtime.js';
import { containerConfig, sandboxConfig, until } from './test_support.js';

const support = await canUseNamespaces();

describe.skipIf(!support.ok)('ProcessRuntime in namespaced pod networks', () => {
  const root = mkdtempSync(join(tmpdir(), 'k8ts-process-netns-'));
  const bytes = randomBytes(4);
  const network = namespacedNetwork({
    rootDir: join(root, 'network'),
    podCIDR: `10.${200 + (bytes[0]! % 50)}.${bytes[1]!}.0/24`,
    nodeIP: '192.0.2.2',
    bridgeName: `k8p${bytes.toString('hex')}`,
  });
  const runtime = new ProcessRuntime({ rootDir: join(root, 'runtime'), network, logMaxSizeBytes: 1 << 20, logMaxFiles: 2, logger: pino({ level: 'silent' }) });
  afterAll(async () => {
    for (const sandbox of await runtime.listPodSandboxes()) await runtime.removePodSandbox(sandbox.id);
    await runtime.close();
    await removePodNetwork(join(root, 'network'));
    rmSync(root, { recursive: true, force: true });
  });

  it('runs the container in the pod’s namespaces; exec and port-forward reach them', async () => {
    const sandboxId = await runtime.runPodSandbox(sandboxConfig('web-1', join(root, 'pods', 'web-1')));
    const [ip] = (await runtime.podSandboxStatus(sandboxId)).ips;
    const id = await runtime.createContainer(sandboxId, containerConfig(join(root, 'pods', 'web-1'), { name: 'web-1', image: 'k8ts/http-echo', env: [{ name: 'POD_IP', value: ip! }] }));
    await runtime.startContainer(id);

    const inside = await runtime.execSync(id, ['sh', '-c', 'hostname; echo $HOSTNAME; ip -4 -o addr show dev eth0'], 30);
    expect(inside.exitCode).toBe(0);
    const [uts, envHostname, eth0] = Buffer.from(inside.stdout).toString().trim().split('\n');
    expect(uts).toBe('web-1');
    expect(envHostname).toBe('web-1');
    expect(eth0).toContain(` ${ip}/24 `);

    // http-echo listens on 8080 inside the pod: reached through port-forward, on 127.0.0.1 of the pod.
    const answer = await until('http-echo to answer through port-forward', async () => {
      const received: Buffer[] = [];
      let ended!: () => void;
      const done = new Promise<void>((resolve) => (ended = resolve));
      async function* input() {
        yield Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        await done;
      }
      const stream = { input: input(), write: (c: Uint8Array) => received.push(Buffer.from(c)), end: () => ended(), closed: new AbortController().signal };
      const reached = await runtime.portForward(sandboxId, 8080, stream).then(() => true, () => false);
      const text = Buffer.concat(received).toString();
      return reached && text.includes('"pod"') ? text : undefined;
    });
    expect(answer).toContain(`"ip":"${ip}"`);
    await runtime.stopContainer(id, 30);
    expect(await runtime.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 0 });
  });

  it('gives every container the sandbox’s resolv.conf at /etc/resolv.conf, leaving the node’s alone', async () => {
    const nodeResolvConf = readFileSync('/etc/resolv.conf', 'utf8');
    const dnsConfig = { nameservers: ['10.96.0.10'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] };
    const sandboxId = await runtime.runPodSandbox({ ...sandboxConfig('dns-1', join(root, 'pods', 'dns-1')), dnsConfig });
    const id = await runtime.createContainer(sandboxId, containerConfig(join(root, 'pods', 'dns-1'), { name: 'dns-1', image: 'k8ts/pause' }));
    await runtime.startContainer(id);
    const inside = await runtime.execSync(id, ['cat', '/etc/resolv.conf'], 30);
    expect(Buffer.from(inside.stdout).toString()).toBe('nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n');
    expect(readFileSync('/etc/resolv.conf', 'utf8')).toBe(nodeResolvConf);
    await runtime.stopContainer(id, 0);
  });
});
