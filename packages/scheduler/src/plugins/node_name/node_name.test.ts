import { describe, expect, it } from 'vitest';
import { CycleState } from '../../framework/cycle_state.js';
import type { Handle } from '../../framework/interfaces.js';
import { NodeInfo } from '../../framework/node_info.js';
import { Code } from '../../framework/status.js';
import { node, pod } from '../../testing/builders.js';
import { ERR_REASON, NAME, NodeName, factory } from './index.js';

const plugin = new NodeName();
const nodes = [node('n1').info(), node('n2').info()];

describe('NodeName', () => {
  it('skips a pod that names no node, and admits it anywhere', () => {
    const free = pod('p').build();
    expect(plugin.preFilter(new CycleState(), free).status.isSkip()).toBe(true);
    expect(plugin.filter(new CycleState(), free, node('n1').info()).isSuccess()).toBe(true);
  });

  it('narrows the candidates to the named node', () => {
    const { result, status } = plugin.preFilter(new CycleState(), pod('p').node('n2').build());
    expect(status.isSuccess()).toBe(true);
    expect([...(result?.nodeNames ?? [])]).toEqual(['n2']);
  });

  it.each([
    ['the named node', 'n1', true],
    ['another node', 'n2', false],
  ])('filters %s', (_name, nodeName, fits) => {
    const status = plugin.filter(new CycleState(), pod('p').node('n1').build(), nodes.find((info) => info.name === nodeName)!);
    expect(status.isSuccess()).toBe(fits);
    if (!fits) {
      expect(status.code).toBe(Code.UnschedulableAndUnresolvable);
      expect(status.reasons).toEqual(["node(s) didn't match the requested node name"]);
      expect(ERR_REASON).toBe(status.reasons[0]);
    }
  });

  it('reports an error for a NodeInfo without its Node', () => {
    expect(plugin.filter(new CycleState(), pod('p').node('n1').build(), new NodeInfo()).code).toBe(Code.Error);
  });

  it('is built by its factory under its upstream name and requeues on node events', () => {
    const built = factory({}, {} as Handle) as NodeName;
    expect([NAME, built.name]).toEqual(['NodeName', 'NodeName']);
    expect(built.eventsToRegister()).toEqual([
      { resource: 'Node', action: 'Add' },
      { resource: 'Node', action: 'Update' },
    ]);
  });
});
