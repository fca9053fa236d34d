#!/usr/bin/env node
// Used by deploy/compose.sh up: waits until every container of the compose project is healthy and
// then until every node container's Node is Ready, printing each part as it comes up.
//   node deploy/wait-ready.mjs PROJECT API_URL TIMEOUT_SECONDS
import { execFileSync } from 'node:child_process';

const [project, api, timeoutText] = process.argv.slice(2);
if (project === undefined || api === undefined) {
  console.error('usage: wait-ready.mjs PROJECT API_URL [TIMEOUT_SECONDS]');
  process.exit(2);
}
const started = Date.now();
const deadline = started + Number(timeoutText ?? 300) * 1000;
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function docker(args) {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The project's containers: name (compose service and index), health, hostname. */
function containers() {
  const ids = docker(['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${project}`]).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const format = '{{index .Config.Labels "com.docker.compose.service"}} {{index .Config.Labels "com.docker.compose.container-number"}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.Config.Hostname}}';
  return docker(['inspect', '-f', format, ...ids]).split('\n').map((line) => {
    const [service, number, state, health, hostname] = line.split(' ');
    return { name: service === 'node' ? `node ${hostname}` : service, service, number, state, health, hostname };
  });
}

async function nodeReadiness() {
  const response = await fetch(`${api}/api/v1/nodes`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`GET /api/v1/nodes: ${response.status}`);
  const list = await response.json();
  return new Map((list.items ?? []).map((node) => [node.metadata.name, node.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown']));
}

const seen = new Set();
let last = '';
for (;;) {
  const all = containers();
  for (const c of all) {
    if (c.health === 'healthy' && !seen.has(c.name)) {
      seen.add(c.name);
      console.log(`  ${c.name.padEnd(24)} healthy after ${elapsed()}`);
    }
  }
  const nodes = all.filter((c) => c.service === 'node').map((c) => c.hostname);
  const up = (c) => c.health === 'healthy' || (c.health === 'none' && c.state === 'running');
  const waiting = all.filter((c) => !up(c)).map((c) => `${c.name} (${c.state}${c.health === 'none' ? '' : `, ${c.health}`})`);
  // Node readiness is asked (and reported) once every container is up.
  let notReady = [];
  if (waiting.length === 0) {
    notReady = nodes;
    try {
      const ready = await nodeReadiness();
      notReady = nodes.filter((name) => ready.get(name) !== 'True');
    } catch (error) {
      last = error.message;
    }
    if (notReady.length === 0 && all.length > 0) {
      console.log(`  ${nodes.length} nodes Ready after ${elapsed()}: ${nodes.join(', ')}`);
      process.exit(0);
    }
  }
  if (Date.now() > deadline) {
    console.error(`compose: not ready after ${elapsed()}: ${[...waiting, ...notReady.map((name) => `node ${name} not Ready`)].join('; ')}${last ? ` (${last})` : ''}`);
    process.exit(1);
  }
  await pause(1000);
}
