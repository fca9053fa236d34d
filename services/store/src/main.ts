import { parseRetention } from '@k8ts/etcdserver';
import { exitWithUsageError, onShutdown, parseFlagsOrExit, runMain } from '@k8ts/service';

import { storeCommand, storeConfig, type StoreConfig } from './flags.js';
import { startStoreMember, storeLogger } from './member.js';

async function main(): Promise<void> {
  const options = parseFlagsOrExit<Record<string, unknown>>(storeCommand(), process.argv.slice(2));
  let config: StoreConfig;
  let retention: number;
  try {
    config = storeConfig(options);
    retention = parseRetention(config.autoCompactionMode, config.autoCompactionRetention);
  } catch (error) {
    exitWithUsageError('k8ts-store', error);
  }
  const logger = storeLogger(config);
  const member = await startStoreMember(config, {
    retention,
    logger,
    onRemoved: () => setTimeout(() => process.kill(process.pid, 'SIGTERM'), 100),
    onFatal: (error) => {
      logger.fatal({ err: error instanceof Error ? error.stack : String(error) }, 'raft node failed; stopping');
      process.exit(1);
    },
  });
  onShutdown(logger, () => member.stop());
}

// etcd prints a fatal error's message alone.
runMain('k8ts-store', main, { stack: false });
