import { describe, expect, it } from 'vitest';
import { logWarnings } from './clusters.js';
import { mountOf, parseMounts } from './conditions.js';

describe('mountOf', () => {
  const mounts = parseMounts(
    ['/dev/vda / ext4 rw 0 0', 'tmpfs /tmp tmpfs rw 0 0', 'tmpfs /tmpx tmpfs rw 0 0', '/dev/vdb /data\\040dir xfs rw 0 0', ''].join('\n'),
  );

  it('finds the longest mount point holding a path', () => {
    expect(mountOf(mounts, '/tmp/k8ts-cluster-1/m1')?.type).toBe('tmpfs');
    expect(mountOf(mounts, '/tmpfoo/x')?.type).toBe('ext4'); // /tmp is not a prefix of /tmpfoo
    expect(mountOf(mounts, '/data dir/m1')?.type).toBe('xfs');
    expect(mountOf(mounts, '/work')?.mountPoint).toBe('/');
  });
});

describe('logWarnings', () => {
  it('keeps warnings and errors from pino, zap and capnslog logs, the last ones first cut', () => {
    const log = [
      '{"level":30,"msg":"ready"}',
      '{"level":40,"msg":"slow fsync"}',
      '{"level":"warn","msg":"apply request took too long"}',
      '{"level":"info","msg":"fine"}',
      '2024-01-01 00:00:00.000000 W | etcdserver: read-only range request took too long',
      '2024-01-01 00:00:00.000000 I | raft: elected leader',
      '{"level":60,"msg":"raft node failed',
    ].join('\n');
    expect(logWarnings(log)).toEqual([
      '{"level":40,"msg":"slow fsync"}',
      '{"level":"warn","msg":"apply request took too long"}',
      '2024-01-01 00:00:00.000000 W | etcdserver: read-only range request took too long',
    ]);
    expect(logWarnings(log, 1)).toHaveLength(1);
  });
});
