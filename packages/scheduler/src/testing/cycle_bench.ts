/**
 * The scheduling cycle alone, in one process: a real Scheduler over the simulated API (SimCluster, no
 * delays, objects not frozen, as an informer's), with scheduler_perf's SchedulingBasic shapes (nodes
 * of cpu 4, memory 32Gi, 110 pods; pods requesting cpu 100m, memory 500Mi). It isolates the
 * scheduler's own work (queue, snapshot, filter, score, assume) from the wire, the apiserver and the
 * store, which `k8ts bench scheduler` includes.
 *
 *   node packages/scheduler/dist/testing/cycle_bench.js [--nodes 5000] [--pods 10000] [--runs 3]
 *
 * Each run builds a fresh cluster and scheduler in this process (so later runs have warm code), creates
 * every pod at once and waits for the last binding. Test-only (not exported from the package).
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { realClock, seededRandom, sleep } from '@k8ts/base';
import { parseSchedulerConfiguration } from '../scheduler/configuration.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { SimCluster } from './sim_cluster.js';

const NODE_RESOURCES = { cpu: '4', memory: '32Gi', pods: '110' };
const POD_RESOURCES = { cpu: '100m', memory: '500Mi' };

function benchNode(index: number): Node {
  const name = `node-${index}`;
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { capacity: { ...NODE_RESOURCES }, allocatable: { ...NODE_RESOURCES }, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function benchPod(index: number): Pod {
  return {
    metadata: { name: `pod-${index}`, namespace: 'default', uid: `uid-${index}` },
    spec: {
      schedulerName: 'default-scheduler',
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', ports: [{ containerPort: 80 }], resources: { requests: { ...POD_RESOURCES }, limits: { ...POD_RESOURCES } } }],
    },
  };
}

interface RunFigures {
  wallMs: number;
  cpuMs: number;
}

/** Polls `condition` every 10 ms, so the poll costs little beside the cycle measured. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(realClock, 10);
}

async function runOnce(nodes: number, pods: number, seed: number): Promise<RunFigures> {
  const sim = new SimCluster({ seed, deliveryDelay: { min: 0, max: 0 }, writeDelay: { min: 0, max: 0 }, freeze: false });
  for (let i = 0; i < nodes; i++) sim.addNode(benchNode(i));
  const scheduler = new Scheduler({ configuration: parseSchedulerConfiguration(), writer: sim.writer('default-scheduler'), random: seededRandom(seed) });
  sim.subscribe(scheduler, 'default-scheduler');
  const controller = new AbortController();
  const loop = scheduler.run(controller.signal);
  await until(() => scheduler.nodeCount() >= nodes);
  const startedAt = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < pods; i++) sim.createPod(benchPod(i));
  await until(() => sim.history.bindings.length >= pods);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - startedAt;
  controller.abort();
  scheduler.close();
  await loop;
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function spread(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return `median ${median.toFixed(3)}, range ${(sorted[0] ?? 0).toFixed(3)}–${(sorted.at(-1) ?? 0).toFixed(3)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { nodes: { type: 'string', default: '5000' }, pods: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } } });
  const [nodes, pods, runs] = [Number(values.nodes), Number(values.pods), Number(values.runs)];
  console.log(`scheduling cycle, in process: ${nodes} nodes, ${pods} pods, ${runs} runs; node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0]?.toFixed(1)} at start`);
  const perPod: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const { wallMs, cpuMs } = await runOnce(nodes, pods, run);
    perPod.push(cpuMs / pods);
    console.log(`  run ${run}: ${wallMs.toFixed(0)} ms, ${((pods / wallMs) * 1000).toFixed(0)} pods/s, CPU ${(cpuMs / pods).toFixed(3)} ms a pod`);
  }
  console.log(`CPU a pod (ms): ${spread(perPod)}`);
}

await main();
