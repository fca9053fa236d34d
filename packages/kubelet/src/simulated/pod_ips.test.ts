import { describe, expect, it } from 'vitest';
import { PodIpPool, nthSubnet24 } from './pod_ips.js';

describe('PodIpPool', () => {
  it('hands out the podCIDR after the gateway, round robin, never one address twice', () => {
    const pool = new PodIpPool('10.244.3.0/29'); // .1 gateway, pods .2 … .6
    expect([pool.allocate(), pool.allocate()]).toEqual(['10.244.3.2', '10.244.3.3']);
    pool.release('10.244.3.2');
    expect([pool.allocate(), pool.allocate(), pool.allocate()]).toEqual(['10.244.3.4', '10.244.3.5', '10.244.3.6']);
    expect(pool.allocate()).toBe('10.244.3.2'); // wrapped around to the freed one
    expect(pool.allocate()).toBeUndefined();
    expect(pool.used).toBe(pool.capacity);
  });

  it('claims addresses of pods found running, refusing others', () => {
    const pool = new PodIpPool('10.244.3.0/29');
    expect(pool.claim('10.244.3.2')).toBe(true);
    expect(pool.claim('10.244.3.1')).toBe(false); // the gateway
    expect(pool.claim('10.9.9.9')).toBe(false);
    expect(pool.allocate()).toBe('10.244.3.3');
  });

  it("gives node i the i-th /24 of the fallback range", () => {
    expect(nthSubnet24('10.128.0.0/9', 0)).toBe('10.128.0.0/24');
    expect(nthSubnet24('10.128.0.0/9', 257)).toBe('10.129.1.0/24');
    expect(() => nthSubnet24('10.128.0.0/9', 2 ** 15)).toThrow(RangeError);
  });
});
