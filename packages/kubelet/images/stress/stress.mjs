// k8ts/stress: uses the cpu and memory it is told, until stopped:
//   --cpu 500m (millicores; "2" is two cores), --memory 200Mi (held and touched), --timeout 60s
// Memory is allocated in steps of 1 MiB and written, so it is resident (and counted by a cgroup).
import { Worker } from 'node:worker_threads';

const units = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, k: 1e3, M: 1e6, G: 1e9 };
function quantity(text) {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|k|M|G)?$/.exec(text ?? '');
  if (!match) throw new Error(`invalid quantity ${JSON.stringify(text)}`);
  return Number(match[1]) * (match[2] ? units[match[2]] : 1);
}
function millicores(text) {
  return text.endsWith('m') ? Number(text.slice(0, -1)) : Number(text) * 1000;
}

let cpuMillis = 0;
let memoryBytes = 0;
let timeoutSeconds = 0;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const [flag, inline] = args[i].split('=', 2);
  const value = inline ?? args[++i];
  if (flag === '--cpu' || flag === '-cpu') cpuMillis = millicores(value);
  else if (flag === '--memory' || flag === '--vm-bytes' || flag === '-memory') memoryBytes = quantity(value);
  else if (flag === '--timeout') timeoutSeconds = Number(value.replace(/s$/, ''));
  else {
    console.error(`stress: unknown flag ${args[i]}`);
    process.exit(2);
  }
}
if (!Number.isFinite(cpuMillis) || cpuMillis < 0) {
  console.error('stress: invalid --cpu');
  process.exit(2);
}

console.log(`stress: cpu ${cpuMillis}m, memory ${memoryBytes} bytes`);

const held = [];
const STEP = 2 ** 20;
for (let allocated = 0; allocated < memoryBytes; allocated += STEP) {
  held.push(Buffer.alloc(Math.min(STEP, memoryBytes - allocated), 1));
}
if (memoryBytes > 0) console.log(`stress: holding ${memoryBytes} bytes`);

// Each worker burns up to one core: busy for its share of every 100 ms window.
const burn = `
const { workerData } = require('node:worker_threads');
const windowMs = 100, busyMs = workerData * windowMs / 1000;
function tick() { const end = Date.now() + busyMs; while (Date.now() < end) {} setTimeout(tick, windowMs - busyMs); }
tick();`;
for (let left = cpuMillis; left > 0; left -= 1000) {
  new Worker(burn, { eval: true, workerData: Math.min(1000, left) });
}

setInterval(() => held.length, 1 << 30);
if (timeoutSeconds > 0) setTimeout(() => process.exit(0), timeoutSeconds * 1000);
process.on('SIGTERM', () => process.exit(0));
