import { describe, expect, test } from 'vitest';
import { resumedSettings, storeHostsFor } from './cluster_state.js';

describe('resumedSettings', () => {
  const saved = { basePort: 30000, nodes: 2, simulatedNodes: 0 };
  const defaults = { basePort: 32300, nodes: 3, simulatedNodes: 0 };

  test('a new folder takes what was asked', () => {
    expect(resumedSettings(undefined, defaults, new Set())).toEqual(defaults);
  });

  test('a resumed cluster keeps its saved settings where no flag was given', () => {
    expect(resumedSettings(saved, defaults, new Set())).toEqual(saved);
    expect(resumedSettings(saved, { ...defaults, basePort: 30000 }, new Set(['basePort']))).toEqual(saved);
  });

  test('a flag that differs from the saved cluster is refused, naming both values', () => {
    expect(() => resumedSettings(saved, { ...defaults, basePort: 31000 }, new Set(['basePort']))).toThrow(
      '--base-port 31000: this folder holds a cluster made with --base-port 30000 (k8ts down --purge to start afresh)',
    );
    expect(() => resumedSettings(saved, { ...defaults, nodes: 3 }, new Set(['nodes']))).toThrow('--nodes 3: this folder holds a cluster made with --nodes 2');
  });
});

describe('storeHostsFor', () => {
  const saved = { basePort: 30000, nodes: 2, simulatedNodes: 0 };

  test('a new cluster puts its store members in hosts when its nodes have them', () => {
    expect(storeHostsFor(undefined, true)).toBe(true);
    expect(storeHostsFor(undefined, false)).toBe(false);
  });

  test('a resumed cluster keeps where its members were made: older folders (no record) on loopback', () => {
    expect(storeHostsFor({ ...saved, storeHosts: true }, true)).toBe(true);
    expect(storeHostsFor({ ...saved, storeHosts: false }, true)).toBe(false);
    expect(storeHostsFor(saved, true)).toBe(false);
  });

  test('members made in hosts cannot resume without them (their peer URLs name the hosts)', () => {
    expect(() => storeHostsFor({ ...saved, storeHosts: true }, false)).toThrow(/store members run in network namespaces of their own: resume it as root/);
  });
});
