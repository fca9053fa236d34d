import { FakeClock } from '@k8ts/base';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NodeInfo } from '../framework/node_info.js';
import { node, pod } from '../testing/builders.js';
import { SchedulerCache } from './cache.js';
import { Snapshot } from './snapshot.js';

function podNames(info: NodeInfo | undefined): string[] {
  return (info?.pods ?? []).map((p) => p.pod.metadata!.name!);
}

function cacheWithNodes(...names: string[]): SchedulerCache {
  const cache = new SchedulerCache();
  for (const name of names) cache.addNode(node(name).build());
  return cache;
}

function snapshotOf(cache: SchedulerCache): Snapshot {
  const snapshot = new Snapshot();
  cache.updateSnapshot(snapshot);
  return snapshot;
}

const antiAffinity = {
  podAntiAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'x' } } }],
  },
};

describe('SchedulerCache assumed pods', () => {
  it('assume → confirm: the informer’s Add turns the assumed pod into an added one', () => {
    const cache = cacheWithNodes('n1');
    const p = pod('a').node('n1').request({ cpu: '1' }).build();
    cache.assumePod(p);
    expect(cache.isAssumedPod(p)).toBe(true);
    expect(cache.dump().nodes.get('n1')?.requested.milliCpu).toBe(1000);

    cache.addPod(p);
    expect(cache.isAssumedPod(p)).toBe(false);
    expect(cache.podCount()).toBe(1);
    expect(cache.dump().nodes.get('n1')?.requested.milliCpu).toBe(1000);
    expect(() => cache.addPod(p)).toThrow('pod default/a was already in added state');
  });

  it('assume → confirm on another node: the pod moves where the informer says', () => {
    const cache = cacheWithNodes('n1', 'n2');
    cache.assumePod(pod('a').node('n1').build());
    cache.addPod(pod('a').node('n2').build());
    const nodes = cache.dump().nodes;
    expect(podNames(nodes.get('n1'))).toEqual([]);
    expect(podNames(nodes.get('n2'))).toEqual(['a']);
  });

  it('assume → forget: the pod leaves its node', () => {
    const cache = cacheWithNodes('n1');
    const p = pod('a').node('n1').request({ cpu: '1' }).hostPort(8080).build();
    cache.assumePod(p);
    cache.forgetPod(p);
    const info = cache.dump().nodes.get('n1');
    expect(podNames(info)).toEqual([]);
    expect(info?.requested.milliCpu).toBe(0);
    expect(info?.usedPorts).toEqual([]);
    expect(cache.isAssumedPod(p)).toBe(false);
    expect(() => cache.forgetPod(p)).toThrow("pod default/a wasn't assumed so cannot be forgotten");
  });

  it('refuses to forget a pod on a node other than the one assumed', () => {
    const cache = cacheWithNodes('n1', 'n2');
    cache.assumePod(pod('a').node('n1').build());
    expect(() => cache.forgetPod(pod('a').node('n2').build())).toThrow('pod default/a was assumed on n1 but assigned to n2');
  });

  it('refuses to assume a pod twice', () => {
    const cache = cacheWithNodes('n1');
    cache.assumePod(pod('a').node('n1').build());
    expect(() => cache.assumePod(pod('a').node('n1').build())).toThrow("pod default/a is in the cache, so can't be assumed");
  });

  it('assume → finishBinding → expire after the TTL when the informer never confirms', () => {
    const clock = new FakeClock(0);
    const cache = new SchedulerCache({ clock, assumedPodTtlMs: 30_000 });
    cache.addNode(node('n1').build());
    const bound = pod('bound').node('n1').build();
    const binding = pod('binding').node('n1').build();
    cache.assumePod(bound);
    cache.assumePod(binding);
    cache.finishBinding(bound);
    cache.run();

    clock.advance(30_000);
    expect(cache.isAssumedPod(bound)).toBe(true); // the deadline itself is not past yet
    clock.advance(1_000);
    expect(cache.isAssumedPod(bound)).toBe(false);
    expect(cache.getPod(bound)).toBeUndefined();
    // A binding still in progress never expires.
    expect(cache.isAssumedPod(binding)).toBe(true);
    expect(podNames(cache.dump().nodes.get('n1'))).toEqual(['binding']);

    // The informer may still report the expired pod: it is added back.
    cache.addPod(bound);
    expect(podNames(cache.dump().nodes.get('n1'))).toEqual(['binding', 'bound']);
    cache.close();
  });

  it('never expires assumed pods with the default TTL of 0 (upstream v1.32)', () => {
    const cache = cacheWithNodes('n1');
    const p = pod('a').node('n1').build();
    cache.assumePod(p);
    cache.finishBinding(p, 0);
    expect(cache.cleanupAssumedPods(Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(cache.isAssumedPod(p)).toBe(true);
  });
});

describe('SchedulerCache pods from the informer', () => {
  it('updates a pod in place on its node', () => {
    const cache = cacheWithNodes('n1');
    const before = pod('a').node('n1').request({ cpu: '1' }).build();
    cache.addPod(before);
    cache.updatePod(before, pod('a').node('n1').request({ cpu: '2' }).build());
    expect(cache.dump().nodes.get('n1')?.requested.milliCpu).toBe(2000);
    expect(cache.podCount()).toBe(1);
  });

  it.each([
    { name: 'update of an unknown pod', act: (c: SchedulerCache) => c.updatePod(pod('x').node('n1').build(), pod('x').node('n1').build()), message: 'pod default/x is not added to scheduler cache, so cannot be updated' },
    { name: 'remove of an unknown pod', act: (c: SchedulerCache) => c.removePod(pod('x').node('n1').build()), message: 'pod default/x is not found in scheduler cache, so cannot be removed from it' },
    { name: 'remove of an unknown node', act: (c: SchedulerCache) => c.removeNode(node('nope').build()), message: 'node nope is not found' },
  ])('rejects $name', ({ act, message }) => {
    expect(() => act(cacheWithNodes('n1'))).toThrow(message);
  });

  it('keeps a pod whose node is not known yet on a placeholder, then joins them', () => {
    const cache = new SchedulerCache();
    cache.addPod(pod('early').node('n1').request({ cpu: '1' }).build());
    expect(cache.nodeCount()).toBe(1);
    expect(cache.dump().nodes.get('n1')?.node).toBeUndefined();
    expect(snapshotOf(cache).list()).toHaveLength(0);

    cache.addNode(node('n1').build());
    const info = snapshotOf(cache).get('n1');
    expect(podNames(info)).toEqual(['early']);
    expect(info?.requested.milliCpu).toBe(1000);
  });

  it('keeps a removed node’s pods until they are removed too', () => {
    const cache = cacheWithNodes('n1', 'n2');
    const p = pod('a').node('n1').build();
    cache.addPod(p);
    const snapshot = snapshotOf(cache);
    expect(snapshot.list().map((info) => info.name)).toEqual(['n1', 'n2']);

    cache.removeNode(node('n1').build());
    expect(cache.nodeCount()).toBe(2);
    expect(cache.podCount()).toBe(1);
    cache.updateSnapshot(snapshot);
    expect(snapshot.list().map((info) => info.name)).toEqual(['n2']);
    expect(snapshot.get('n1')).toBeUndefined();

    cache.removePod(p);
    expect(cache.nodeCount()).toBe(1);
    expect(cache.podCount()).toBe(0);
  });
});

describe('SchedulerCache.updateSnapshot', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('copies only the NodeInfo that changed, into the snapshot’s existing objects', () => {
    const cache = cacheWithNodes('n1', 'n2', 'n3');
    const snapshot = snapshotOf(cache);
    const [n1, n2, n3] = ['n1', 'n2', 'n3'].map((name) => snapshot.get(name)!) as [NodeInfo, NodeInfo, NodeInfo];
    const generations = [n1.generation, n2.generation, n3.generation];
    const list = snapshot.list();

    cache.addPod(pod('a').node('n2').build());
    const clone = vi.spyOn(NodeInfo.prototype, 'clone');
    cache.updateSnapshot(snapshot);

    expect(clone).toHaveBeenCalledTimes(1);
    expect(snapshot.get('n1')).toBe(n1);
    expect(snapshot.get('n2')).toBe(n2);
    expect(snapshot.list()).toBe(list); // no node came or went: the list is not rebuilt
    expect(n1.generation).toBe(generations[0]);
    expect(n3.generation).toBe(generations[2]);
    expect(n2.generation).toBeGreaterThan(generations[1]!);
    expect(podNames(n2)).toEqual(['a']);
    expect(snapshot.generation).toBe(n2.generation);

    clone.mockClear();
    cache.updateSnapshot(snapshot);
    expect(clone).not.toHaveBeenCalled();
  });

  it('does not let later cache changes leak into a snapshot', () => {
    const cache = cacheWithNodes('n1');
    const snapshot = snapshotOf(cache);
    cache.addPod(pod('a').node('n1').build());
    expect(podNames(snapshot.get('n1'))).toEqual([]);
  });

  it('lists nodes round-robin across zones, stably', () => {
    const cache = new SchedulerCache();
    for (const [name, zone] of [['a1', 'a'], ['a2', 'a'], ['a3', 'a'], ['b1', 'b'], ['none', undefined]] as const) {
      const builder = node(name);
      cache.addNode((zone ? builder.zone(zone) : builder).build());
    }
    const snapshot = snapshotOf(cache);
    expect(snapshot.list().map((info) => info.name)).toEqual(['a1', 'b1', 'none', 'a2', 'a3']);
    cache.addPod(pod('p').node('a2').build());
    cache.updateSnapshot(snapshot);
    expect(snapshot.list().map((info) => info.name)).toEqual(['a1', 'b1', 'none', 'a2', 'a3']);
    cache.updateNode(node('a1').zone('a').build(), node('a1').zone('b').build());
    cache.updateSnapshot(snapshot);
    expect(snapshot.list().map((info) => info.name)).toEqual(['a2', 'b1', 'none', 'a3', 'a1']);
  });

  it('keeps the affinity lists current as nodes gain and lose such pods', () => {
    const cache = cacheWithNodes('n1', 'n2');
    const snapshot = snapshotOf(cache);
    const guarded: Pod = pod('g').node('n2').spec({ affinity: antiAffinity }).build();
    cache.addPod(guarded);
    cache.updateSnapshot(snapshot);
    expect(snapshot.havePodsWithAffinityList().map((info) => info.name)).toEqual(['n2']);
    expect(snapshot.havePodsWithRequiredAntiAffinityList().map((info) => info.name)).toEqual(['n2']);
    cache.removePod(guarded);
    cache.updateSnapshot(snapshot);
    expect(snapshot.havePodsWithAffinityList()).toEqual([]);
    expect(snapshot.havePodsWithRequiredAntiAffinityList()).toEqual([]);
  });

  it('refreshes a snapshot of 5,000 nodes and 10,000 pods by copying only the node that changed', () => {
    const cache = new SchedulerCache();
    for (let i = 0; i < 5_000; i++) cache.addNode(node(`n${i}`).zone(`z${i % 3}`).build());
    for (let i = 0; i < 10_000; i++) cache.addPod(pod(`p${i}`).node(`n${i % 5_000}`).request({ cpu: '10m' }).build());
    const snapshot = snapshotOf(cache);
    expect(snapshot.list()).toHaveLength(5_000);

    cache.addPod(pod('extra').node('n7').build());
    const clones = vi.spyOn(NodeInfo.prototype, 'clone');
    try {
      cache.updateSnapshot(snapshot);
      expect(clones).toHaveBeenCalledTimes(1);
    } finally {
      clones.mockRestore();
    }
    expect(podNames(snapshot.get('n7'))).toContain('extra');
  });
});

describe('Snapshot.from', () => {
  it('builds a lister from nodes and bound pods', () => {
    const snapshot = Snapshot.from([node('n1').build(), node('n2').build()], [pod('a').node('n2').spec({ affinity: antiAffinity }).build(), pod('stray').node('gone').build()]);
    expect(snapshot.list().map((info) => info.name)).toEqual(['n1', 'n2']);
    expect(podNames(snapshot.get('n2'))).toEqual(['a']);
    expect(snapshot.havePodsWithRequiredAntiAffinityList().map((info) => info.name)).toEqual(['n2']);
    expect(snapshot.get('gone')).toBeUndefined();
  });
});
