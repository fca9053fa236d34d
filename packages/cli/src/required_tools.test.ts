import { describe, expect, test } from 'vitest';
import { checkTools } from './required_tools.js';

const without = (...missing: string[]) => (binary: string): boolean => !missing.includes(binary);

describe('checkTools', () => {
  test('nothing missing, nothing said', () => {
    expect(checkTools({ present: without(), privileged: true, nodes: 3 })).toEqual({ missing: [], warnings: [] });
  });

  test('nats-server missing stops up with the package to install', () => {
    expect(checkTools({ present: without('nats-server'), privileged: false, nodes: 3 }).missing).toEqual([
      'nats-server is not on PATH (the API servers reach the nodes through it): install it: apt-get install nats-server (or a release from https://github.com/nats-io/nats-server/releases)',
    ]);
  });

  test('as root with nodes, the node network tools are needed: ip from iproute2, iptables from iptables', () => {
    const check = checkTools({ present: without('ip', 'iptables'), privileged: true, nodes: 1 });
    expect(check.missing).toHaveLength(2);
    expect(check.missing[0]).toMatch(/^ip is not on PATH .*: install it: apt-get install iproute2$/);
    expect(check.missing[1]).toMatch(/^iptables is not on PATH .*: install it: apt-get install iptables$/);
  });

  test('without root (loopback nodes) or without nodes, the node network tools are not needed', () => {
    expect(checkTools({ present: without('ip', 'iptables'), privileged: false, nodes: 3 }).missing).toEqual([]);
    expect(checkTools({ present: without('ip', 'iptables'), privileged: true, nodes: 0 }).missing).toEqual([]);
  });

  test('kubectl missing is a warning saying where to get it: the cluster still comes up', () => {
    const check = checkTools({ present: without('kubectl'), privileged: false, nodes: 3 });
    expect(check.missing).toEqual([]);
    expect(check.warnings).toEqual([expect.stringMatching(/^kubectl is not on PATH .*install it: kubectl v1\.32 from https:\/\/kubernetes\.io\/docs\/tasks\/tools\//)]);
  });
});
