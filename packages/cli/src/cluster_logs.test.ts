import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { formatPartList, partLogs } from './cluster_logs.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('partLogs', () => {
  test("the state file's parts in its order, then other logs in the folder (a stopped cluster's logs still list)", () => {
    dir = mkdtempSync(join(tmpdir(), 'k8ts-logs-'));
    mkdirSync(join(dir, 'logs'));
    for (const name of ['apiserver-1', 'nats-server', 'store-1']) writeFileSync(join(dir, 'logs', `${name}.log`), 'x'.repeat(2048));
    expect(partLogs(dir).map((part) => part.name)).toEqual(['apiserver-1', 'nats-server', 'store-1']);
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ processes: [{ name: 'store-1', pid: 1, log: join(dir, 'logs', 'store-1.log') }], apiservers: [], kubeconfig: '' }));
    expect(partLogs(dir).map((part) => part.name)).toEqual(['store-1', 'apiserver-1', 'nats-server']);
    expect(formatPartList(partLogs(dir)).slice(0, 2)).toEqual([
      `PART                           SIZE  LOG`,
      `store-1                     2.0 KiB  ${join(dir, 'logs', 'store-1.log')}`,
    ]);
  });
});
