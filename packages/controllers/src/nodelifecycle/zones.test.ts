import { describe, expect, it } from 'vitest';
import { computeZoneState, planDisruption, zoneEvictionRate, type ReadyStatuses, type ZoneState } from './zones.js';

const OPTIONS = { nodeEvictionRate: 0.1, secondaryNodeEvictionRate: 0.01, largeClusterSizeThreshold: 50, unhealthyZoneThreshold: 0.55 };
const statuses = (ready: number, notReady: number): ReadyStatuses => [...Array<string>(ready).fill('True'), ...Array<string>(notReady).fill('Unknown')];

describe('computeZoneState', () => {
  it('is FullDisruption with no Ready node, PartialDisruption past the threshold with more than 2 not ready, else Normal', () => {
    expect(computeZoneState(statuses(0, 1), 0.55)).toEqual({ notReady: 1, state: 'FullDisruption' });
    expect(computeZoneState(statuses(2, 3), 0.55)).toEqual({ notReady: 3, state: 'PartialDisruption' });
    expect(computeZoneState(statuses(3, 3), 0.55)).toEqual({ notReady: 3, state: 'Normal' }); // 50% < 55%
    expect(computeZoneState(statuses(0, 0).concat(['True', 'False', 'False']), 0.55)).toEqual({ notReady: 2, state: 'Normal' }); // only 2 not ready
    expect(computeZoneState(['True', undefined, undefined, undefined], 0.55).state).toBe('PartialDisruption'); // no Ready condition counts as not ready
    expect(computeZoneState([], 0.55).state).toBe('Normal');
  });
});

describe('zoneEvictionRate', () => {
  it('slows a large partially disrupted zone, stops a small one, and keeps the normal rate otherwise', () => {
    expect(zoneEvictionRate('Normal', 10, OPTIONS)).toBe(0.1);
    expect(zoneEvictionRate('PartialDisruption', 51, OPTIONS)).toBe(0.01);
    expect(zoneEvictionRate('PartialDisruption', 50, OPTIONS)).toBe(0);
    expect(zoneEvictionRate('FullDisruption', 3, OPTIONS)).toBe(0.1);
  });
});

describe('planDisruption', () => {
  const zones = (entries: Record<string, ReadyStatuses>): Map<string, ReadyStatuses> => new Map(Object.entries(entries));
  const states = (entries: Record<string, ZoneState>): Map<string, ZoneState> => new Map(Object.entries(entries));

  it('sets a new zone\'s rate from its first state', () => {
    const plan = planDisruption(new Map(), zones({ a: statuses(3, 0), b: statuses(1, 4) }), OPTIONS);
    expect(plan.zoneStates).toEqual(states({ a: 'Normal', b: 'PartialDisruption' }));
    expect(plan.rates).toEqual(new Map([['a', 0.1], ['b', 0]]));
  });

  it('keeps tainting in a fully disrupted zone while another zone is healthy', () => {
    const plan = planDisruption(states({ a: 'Normal', b: 'Normal' }), zones({ a: statuses(3, 0), b: statuses(0, 3) }), OPTIONS);
    expect(plan.enteringFullDisruption).toBe(false);
    expect(plan.zoneStates.get('b')).toBe('FullDisruption');
    expect(plan.rates).toEqual(new Map([['b', 0.1]]));
  });

  it('stops all tainting and untaints when every zone is fully disrupted, and starts again when one recovers', () => {
    const down = planDisruption(states({ a: 'Normal', b: 'Normal' }), zones({ a: statuses(0, 3), b: statuses(0, 2) }), OPTIONS);
    expect(down.enteringFullDisruption).toBe(true);
    expect(down.rates).toEqual(new Map([['a', 0], ['b', 0]]));
    const still = planDisruption(down.zoneStates, zones({ a: statuses(0, 3), b: statuses(0, 2) }), OPTIONS);
    expect(still.enteringFullDisruption).toBe(false);
    expect(still.rates.size).toBe(0);
    const back = planDisruption(still.zoneStates, zones({ a: statuses(1, 2), b: statuses(0, 2) }), OPTIONS);
    expect(back.exitingFullDisruption).toBe(true);
    expect(back.zoneStates).toEqual(states({ a: 'Normal', b: 'FullDisruption' }));
    expect(back.rates).toEqual(new Map([['a', 0.1], ['b', 0.1]]));
  });

  it('treats a single zone going fully down as every zone down', () => {
    const plan = planDisruption(states({ '': 'Normal' }), zones({ '': statuses(0, 1) }), OPTIONS);
    expect(plan.enteringFullDisruption).toBe(true);
  });

  it('forgets zones that have no nodes left', () => {
    const plan = planDisruption(states({ a: 'Normal', gone: 'PartialDisruption' }), zones({ a: statuses(2, 0) }), OPTIONS);
    expect([...plan.zoneStates.keys()]).toEqual(['a']);
    expect(plan.rates.size).toBe(0);
  });
});
