import { describe, expect, it } from 'vitest';
import { CycleState } from '../../framework/cycle_state.js';
import { Code } from '../../framework/status.js';
import { pod } from '../../testing/builders.js';
import { DefaultBinder } from './index.js';

describe('DefaultBinder', () => {
  it('binds through the given function', async () => {
    const bound: string[] = [];
    const binder = new DefaultBinder(async (target, nodeName) => {
      bound.push(`${target.metadata?.name}->${nodeName}`);
    });
    const status = await binder.bind(new CycleState(), pod('p').build(), 'n1');
    expect(status.isSuccess()).toBe(true);
    expect(bound).toEqual(['p->n1']);
  });

  it('turns a refused binding into an Error status with the reason', async () => {
    const binder = new DefaultBinder(async () => {
      throw new Error('pod p is already assigned to node "n2"');
    });
    const status = await binder.bind(new CycleState(), pod('p').build(), 'n1');
    expect(status.code).toBe(Code.Error);
    expect(status.message()).toBe('binding rejected: pod p is already assigned to node "n2"');
  });
});
