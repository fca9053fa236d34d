/**
 * The cluster the README's first command gives (`k8ts up`, here with two nodes in a temp dir), driven
 * as a new user does with the real kubectl (walkthrough_steps.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand, type CommandResult } from '@k8ts/testkit';
import { afterAll, beforeAll, describe } from 'vitest';
import { freeBasePort } from './cluster_ports.js';
import { walkthroughTests } from './walkthrough_steps.js';

const K8TS = resolve(new URL('../../node_modules/.bin/k8ts', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'k8ts-walk-'));

function k8ts(args: string[], timeoutMs = 180_000): Promise<CommandResult> {
  return runCommand(K8TS, [...args, '--dir', dir], { timeoutMs });
}

interface State {
  kubeconfig: string;
  nodeHosts?: Record<string, { ip: string; enter: string[] }>;
}
const state = (): State => JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as State;

// Services need kube-proxy and cluster DNS, which need root (node hosts, pod networks).
describe.skipIf(process.getuid?.() !== 0)('the README’s cluster, as a user drives it', () => {
  beforeAll(async () => {
    const base = await freeBasePort({ nodes: 2 });
    const up = await k8ts(['up', '--nodes', '2', '--base-port', String(base)]);
    if (up.code !== 0) throw new Error(`k8ts up failed: ${up.stdout}\n${up.stderr}`);
  }, 240_000);

  afterAll(async () => {
    await k8ts(['down', '--purge']);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  walkthroughTests(() => ({
    kubeconfig: state().kubeconfig,
    nodeAddress: (node) => {
      const ip = state().nodeHosts?.[node]?.ip;
      if (ip === undefined) throw new Error(`no node host ${node} in ${dir}`);
      return ip;
    },
  }));
});
