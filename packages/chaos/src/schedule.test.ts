import { describe, expect, test } from 'vitest';
import { DEFAULT_FAULT_KINDS, FAULT_KINDS, LOSS_PERCENT, NODE_LOSS_MS, SLOW_RATE_KBIT, applicableKinds, faultSchedule, parseDuration, parseFaultKinds, type FaultKind, type ScheduleParts } from './schedule.js';

const parts: ScheduleParts = {
  stores: ['store-1', 'store-2', 'store-3'],
  apiservers: ['apiserver-1', 'apiserver-2'],
  schedulers: ['scheduler-1', 'scheduler-2'],
  controllerManagers: ['controller-manager-1', 'controller-manager-2'],
  nodes: ['node-1', 'node-2'],
  nodeHosts: ['node-1', 'node-2'],
  linkParts: ['store-1', 'store-2', 'store-3', 'node-1', 'node-2'],
};

const LINK_KINDS: FaultKind[] = ['isolate-store-leader', 'partition-store', 'link-loss', 'link-slow'];

describe('faultSchedule', () => {
  test('the same seed gives the same schedule; another seed another one', () => {
    const options = { seed: 7, durationMs: 300_000, kinds: FAULT_KINDS, parts };
    expect(faultSchedule(options)).toEqual(faultSchedule({ ...options }));
    expect(faultSchedule(options)).not.toEqual(faultSchedule({ ...options, seed: 8 }));
  });

  test('faults come one at a time, each healed before the next and before the duration ends', () => {
    const faults = faultSchedule({ seed: 3, durationMs: 120_000, kinds: DEFAULT_FAULT_KINDS, parts });
    expect(faults.length).toBeGreaterThan(3);
    faults.forEach((fault, index) => {
      expect(fault.atMs + fault.healAfterMs).toBeLessThanOrEqual(120_000);
      const next = faults[index + 1];
      if (next !== undefined) expect(next.atMs).toBeGreaterThanOrEqual(fault.atMs + fault.healAfterMs + 6_000);
    });
  });

  test('a short run still covers different kinds, and every target fits its kind', () => {
    const faults = faultSchedule({ seed: 1, durationMs: 300_000, kinds: DEFAULT_FAULT_KINDS, parts });
    expect(new Set(faults.slice(0, DEFAULT_FAULT_KINDS.length).map((fault) => fault.kind)).size).toBe(DEFAULT_FAULT_KINDS.length);
    for (const fault of faults) {
      if (fault.kind === 'kill-store') expect(parts.stores).toContain(fault.target);
      if (fault.kind === 'kill-store-leader') expect(fault.target).toBe('store-leader');
      if (fault.kind === 'kill-scheduler-leader') expect(fault.target).toBe('scheduler-leader');
      if (fault.kind === 'kill-controller-manager-leader') expect(fault.target).toBe('controller-manager-leader');
      if (fault.kind === 'kill-node' || fault.kind === 'cut-node') expect(parts.nodes).toContain(fault.target);
      if (fault.kind === 'kill-apiserver') expect(parts.apiservers).toContain(fault.target);
    }
  });

  test('lose-node is asked for by name and lasts the node loss asked (past grace period and tolerations)', () => {
    expect(DEFAULT_FAULT_KINDS).not.toContain('lose-node');
    const faults = faultSchedule({ seed: 2, durationMs: 200_000, kinds: ['lose-node', 'kill-apiserver'], parts });
    const losses = faults.filter((fault) => fault.kind === 'lose-node');
    expect(losses.length).toBeGreaterThan(0);
    for (const fault of losses) {
      expect(fault.healAfterMs).toBe(NODE_LOSS_MS);
      expect(parts.nodeHosts).toContain(fault.target);
    }
    const shorter = faultSchedule({ seed: 2, durationMs: 200_000, kinds: ['lose-node'], parts, nodeLossMs: 40_000 });
    expect(shorter.map((fault) => fault.healAfterMs)).toEqual(shorter.map(() => 40_000));
  });

  test('kinds without a target are left out: no cut-node without node hosts', () => {
    const noHosts = { ...parts, nodeHosts: [] };
    expect(applicableKinds(['cut-node', 'kill-node'], noHosts)).toEqual(['kill-node']);
    expect(faultSchedule({ seed: 1, durationMs: 60_000, kinds: ['cut-node'], parts: noHosts })).toEqual([]);
  });

  test('link faults: only on parts with a network namespace of their own; store kinds only when every member has one', () => {
    const faults = faultSchedule({ seed: 5, durationMs: 600_000, kinds: LINK_KINDS, parts });
    expect(new Set(faults.map((fault) => fault.kind))).toEqual(new Set(LINK_KINDS));
    for (const fault of faults) {
      if (fault.kind === 'isolate-store-leader') expect(fault.target).toBe('store-leader');
      if (fault.kind === 'partition-store') expect(parts.stores).toContain(fault.target);
      if (fault.kind === 'link-loss' || fault.kind === 'link-slow') expect(parts.linkParts).toContain(fault.target);
    }
    // Stores sharing the host's network (the local cluster without store hosts): link faults on nodes only.
    const nodesOnly = { ...parts, linkParts: ['node-1', 'node-2'] };
    expect(applicableKinds(LINK_KINDS, nodesOnly)).toEqual(['link-loss', 'link-slow']);
    expect(new Set(faultSchedule({ seed: 5, durationMs: 300_000, kinds: LINK_KINDS, parts: nodesOnly }).map((fault) => fault.target))).toEqual(new Set(['node-1', 'node-2']));
    // A target that names no such parts: none at all.
    const { linkParts: _, ...noLinkParts } = parts;
    expect(applicableKinds(LINK_KINDS, noLinkParts)).toEqual([]);
    expect(applicableKinds(['partition-store'], { ...parts, stores: ['store-1', 'store-2'], linkParts: ['store-1', 'store-2'] })).toEqual([]);
  });

  test('loss and rate are drawn per fault within their ranges, replayed by the seed, and only for their kinds', () => {
    const options = { seed: 9, durationMs: 900_000, kinds: LINK_KINDS, parts };
    const faults = faultSchedule(options);
    expect(faultSchedule({ ...options })).toEqual(faults);
    const losses = faults.filter((fault) => fault.kind === 'link-loss').map((fault) => fault.lossPercent as number);
    const rates = faults.filter((fault) => fault.kind === 'link-slow').map((fault) => fault.rateKbit as number);
    expect(losses.length).toBeGreaterThan(3);
    for (const loss of losses) expect(loss >= LOSS_PERCENT[0] && loss <= LOSS_PERCENT[1]).toBe(true);
    for (const rate of rates) expect(rate >= SLOW_RATE_KBIT[0] && rate <= SLOW_RATE_KBIT[1]).toBe(true);
    expect(new Set(losses).size).toBeGreaterThan(1);
    for (const fault of faults.filter((fault) => fault.kind !== 'link-loss')) expect(fault.lossPercent).toBeUndefined();
    for (const fault of faults.filter((fault) => fault.kind !== 'link-slow')) expect(fault.rateKbit).toBeUndefined();
  });

  test('a duration shorter than warm-up and one fault schedules nothing', () => {
    expect(faultSchedule({ seed: 1, durationMs: 6_000, kinds: FAULT_KINDS, parts })).toEqual([]);
  });
});

describe('flags', () => {
  test('durations', () => {
    expect(parseDuration('60s')).toBe(60_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1500ms')).toBe(1_500);
    expect(parseDuration('90')).toBe(90_000);
    expect(() => parseDuration('soon')).toThrow(/expected e.g. 60s/);
    expect(() => parseDuration('0s')).toThrow(/positive/);
  });

  test('fault kinds', () => {
    expect(parseFaultKinds('kill-node, pause')).toEqual(['kill-node', 'pause']);
    expect(parseFaultKinds('isolate-store-leader,partition-store,link-loss,link-slow')).toEqual(LINK_KINDS);
    expect(() => parseFaultKinds('kill-everything')).toThrow(/unknown fault kind "kill-everything"/);
    expect(() => parseFaultKinds(',')).toThrow(/no fault kinds/);
  });
});
