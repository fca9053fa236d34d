/**
 * The compose cluster (`pnpm compose:up --nodes 2`) driven as a new user drives the local one
 * (test/cli/walkthrough_steps.ts): the same kubectl session through the published API port, the
 * NodePort reached at a node container's address (this machine routes to the compose network).
 * Skipped when no Docker engine answers (.ci/run starts one).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts, runCommand, type CommandResult } from '@k8ts/testkit';
import { afterAll, beforeAll, describe } from 'vitest';
import { walkthroughTests } from '../cli/walkthrough_steps.js';
import { clearProject, engineAnswers, TEST_PROJECTS } from './engine.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const COMPOSE = join(root, 'deploy', 'compose.sh');
const PROJECT = TEST_PROJECTS.walkthrough;

const dir = mkdtempSync(join(tmpdir(), 'k8ts-compose-walk-'));
const kubeconfig = join(dir, 'kubeconfig');
const env: Record<string, string> = { COMPOSE_PROJECT_NAME: PROJECT, K8TS_COMPOSE_KUBECONFIG: kubeconfig, K8TS_API_PORT: '' };

function compose(args: string[], timeoutMs: number): Promise<CommandResult> {
  return runCommand('bash', [COMPOSE, ...args], { timeoutMs, env });
}

/** A node container's address on the compose network, by its hostname (the Node's name). */
function nodeAddress(node: string): string {
  const ids = execFileSync('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', 'label=com.docker.compose.service=node'], { encoding: 'utf8' }).trim().split('\n');
  for (const id of ids) {
    const [hostname, ip] = execFileSync('docker', ['inspect', '-f', '{{.Config.Hostname}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id], { encoding: 'utf8' }).trim().split(' ');
    if (hostname === node && ip !== undefined && ip !== '') return ip;
  }
  throw new Error(`no node container with hostname ${node} in project ${PROJECT}`);
}

describe.skipIf(!engineAnswers())('the compose cluster, as a user drives it', () => {
  beforeAll(async () => {
    clearProject(PROJECT); // what an interrupted run of this file left
    const [port] = await freePorts(1);
    env['K8TS_API_PORT'] = String(port);
    const up = await compose(['up', '--nodes', '2', '--timeout', '240'], 330_000);
    if (up.code !== 0) throw new Error(`compose:up failed: ${up.stdout}\n${up.stderr}`);
  }, 360_000);

  afterAll(async () => {
    const result = await compose(['down', '--volumes'], 120_000);
    if (result.code !== 0) {
      console.error(`compose down: ${result.stderr}`);
      clearProject(PROJECT); // so that no later file shares the machine with this cluster
    }
    rmSync(dir, { recursive: true, force: true });
  }, 150_000);

  walkthroughTests(() => ({ kubeconfig, nodeAddress }));
});
