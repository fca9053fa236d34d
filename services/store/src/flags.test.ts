import { describe, expect, test } from 'vitest';
import { parseStoreFlags } from './flags.js';

describe('k8ts-store flags (etcd’s names and defaults)', () => {
  test('defaults are etcd’s', () => {
    const config = parseStoreFlags([]);
    expect(config).toMatchObject({
      name: 'default',
      dataDir: 'default.etcd',
      listenClientUrls: ['http://localhost:2379'],
      initialCluster: 'default=http://localhost:2380',
      initialClusterState: 'new',
      initialClusterToken: 'etcd-cluster',
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 1000,
      snapshotCount: 100_000,
      maxRequestBytes: 1_572_864,
      initialElectionTickAdvance: true,
    });
  });

  test('--initial-election-tick-advance is a Go boolean: bare, =false, or from its variable', () => {
    expect(parseStoreFlags(['--initial-election-tick-advance']).initialElectionTickAdvance).toBe(true);
    expect(parseStoreFlags(['--initial-election-tick-advance=false']).initialElectionTickAdvance).toBe(false);
    expect(() => parseStoreFlags(['--initial-election-tick-advance=maybe'])).toThrow('--initial-election-tick-advance takes true or false');
    process.env['ETCD_INITIAL_ELECTION_TICK_ADVANCE'] = 'false';
    try {
      expect(parseStoreFlags([]).initialElectionTickAdvance).toBe(false);
    } finally {
      delete process.env['ETCD_INITIAL_ELECTION_TICK_ADVANCE'];
    }
  });

  test('both --flag value and --flag=value, lists split on commas', () => {
    const config = parseStoreFlags(['--name=n1', '--listen-client-urls', 'http://127.0.0.1:1,http://127.0.0.1:2', '--heartbeat-interval=50', '--election-timeout', '500']);
    expect(config.name).toBe('n1');
    expect(config.dataDir).toBe('n1.etcd');
    expect(config.listenClientUrls).toEqual(['http://127.0.0.1:1', 'http://127.0.0.1:2']);
    expect([config.heartbeatIntervalMs, config.electionTimeoutMs]).toEqual([50, 500]);
  });

  test('etcd’s rule: the election timeout is at least five heartbeats', () => {
    expect(() => parseStoreFlags(['--heartbeat-interval', '100', '--election-timeout', '400'])).toThrow(
      '--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]',
    );
  });

  test('bad values are refused', () => {
    expect(() => parseStoreFlags(['--initial-cluster-state', 'maybe'])).toThrow();
    expect(() => parseStoreFlags(['--snapshot-count', '-1'])).toThrow('--snapshot-count takes a positive integer');
    expect(() => parseStoreFlags(['--listen-client-urls', 'localhost:2379'])).toThrow('--listen-client-urls: "localhost:2379" must be http or https');
  });
});
