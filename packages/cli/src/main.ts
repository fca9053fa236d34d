import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { apiserverBenchCommand, checkPerfBenchCommand, controllersBenchCommand, podsBenchCommand, proxyBenchCommand, schedulerBenchCommand, storeBenchCommand, upBenchCommand } from '@k8ts/bench';
import { chaosCommand } from '@k8ts/chaos';
import { simulateCommand } from '@k8ts/raft/sim';
import { clusterCommands } from './local_cluster.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('k8ts')
  .description('k8ts: a Kubernetes-style cluster runtime whose control plane runs as real, separate processes')
  .version(version);

clusterCommands(program);
program.addCommand(chaosCommand());

const sim = program.command('sim').description('deterministic simulations of k8ts components');
sim
  .command('raft')
  .description('run the Raft cluster simulator (same flags as `pnpm raft:sim`; --help lists them)')
  .helpOption(false)
  .allowUnknownOption()
  .argument('[flags...]')
  .action(async (flags: string[]) => {
    process.exitCode = await simulateCommand(flags);
  });

const bench = program.command('bench').description('benchmarks: they print their figures and conditions, and run real peers beside k8ts where they can');
bench.addCommand(storeBenchCommand());
bench.addCommand(checkPerfBenchCommand());
bench.addCommand(apiserverBenchCommand());
bench.addCommand(schedulerBenchCommand());
bench.addCommand(controllersBenchCommand());
bench.addCommand(podsBenchCommand());
bench.addCommand(proxyBenchCommand());
bench.addCommand(upBenchCommand());

program.parseAsync().catch((error: unknown) => {
  console.error(`k8ts: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
});
