import { FakeClock } from '@k8ts/base';
import { describe, expect, it } from 'vitest';
import { FIRST_ATTEMPT, type Backend } from './backend.js';
import { clientIpAffinity, roundRobin } from './balancers.js';

const a: Backend = { host: '10.0.0.1', port: 80 };
const b: Backend = { host: '10.0.0.2', port: 80 };
const c: Backend = { host: '10.0.0.3', port: 80 };
const client = (address: string) => ({ address, port: 40_000 });

describe('roundRobin', () => {
  it('takes each backend in turn', () => {
    const { pick } = roundRobin([a, b, c]);
    expect([1, 2, 3, 4].map(() => pick(client('1.1.1.1'), FIRST_ATTEMPT))).toEqual([a, b, c, a]);
  });

  it('skips the backends this connection already failed on, and gives up when none is left', () => {
    const { pick } = roundRobin([a, b, c]);
    expect(pick(client('1.1.1.1'), { attempt: 1, failed: [a] })).toEqual(b);
    expect(pick(client('1.1.1.1'), { attempt: 2, failed: [a, c] })).toEqual(b);
    expect(pick(client('1.1.1.1'), { attempt: 3, failed: [a, b, c] })).toBeUndefined();
    expect(roundRobin([]).pick(client('1.1.1.1'), FIRST_ATTEMPT)).toBeUndefined();
  });

  it('takes a new set in place', () => {
    const balancer = roundRobin([a, b, c]);
    balancer.pick(client('1.1.1.1'), FIRST_ATTEMPT);
    balancer.setBackends([c]);
    expect(balancer.pick(client('1.1.1.1'), FIRST_ATTEMPT)).toEqual(c);
    expect(balancer.backends()).toEqual([c]);
  });
});

describe('clientIpAffinity', () => {
  it('keeps a client IP on its backend whatever its port, and spreads new clients', () => {
    const { pick } = clientIpAffinity([a, b]);
    expect(pick({ address: '1.1.1.1', port: 1 }, FIRST_ATTEMPT)).toEqual(a);
    expect(pick({ address: '2.2.2.2', port: 1 }, FIRST_ATTEMPT)).toEqual(b);
    expect(pick({ address: '1.1.1.1', port: 2 }, FIRST_ATTEMPT)).toEqual(a);
    expect(pick({ address: '2.2.2.2', port: 3 }, FIRST_ATTEMPT)).toEqual(b);
  });

  it("forgets a client idle for timeoutSeconds (upstream's default 10800 s), counted from its last use", () => {
    const clock = new FakeClock();
    const { pick } = clientIpAffinity([a, b], { clock });
    expect(pick(client('1.1.1.1'), FIRST_ATTEMPT)).toEqual(a);
    clock.advance(10_000_000);
    expect(pick(client('1.1.1.1'), FIRST_ATTEMPT)).toEqual(a); // used again: the timeout restarts
    clock.advance(10_799_999);
    expect(pick(client('1.1.1.1'), FIRST_ATTEMPT)).toEqual(a);
    clock.advance(10_800_000);
    expect(pick(client('1.1.1.1'), FIRST_ATTEMPT)).toEqual(b); // expired: the next in turn
  });

  it('moves a client whose backend failed, and keeps it on the new one', () => {
    const { pick } = clientIpAffinity([a, b]);
    expect(pick(client('1.1.1.1'), FIRST_ATTEMPT)).toEqual(a);
    expect(pick(client('1.1.1.1'), { attempt: 1, failed: [a] })).toEqual(b);
    expect(pick(client('1.1.1.1'), FIRST_ATTEMPT)).toEqual(b);
  });

  it('drops affinities to backends that left, and keeps the others across updates', () => {
    const balancer = clientIpAffinity([a, b]);
    expect(balancer.pick(client('1.1.1.1'), FIRST_ATTEMPT)).toEqual(a);
    expect(balancer.pick(client('2.2.2.2'), FIRST_ATTEMPT)).toEqual(b);
    balancer.setBackends([b, c]);
    expect(balancer.pick(client('2.2.2.2'), FIRST_ATTEMPT)).toEqual(b);
    expect(balancer.pick(client('1.1.1.1'), FIRST_ATTEMPT)).not.toEqual(a);
  });

  it('remembers at most maxClients, forgetting the least recently used', () => {
    const { pick } = clientIpAffinity([a, b, c], { maxClients: 2 });
    expect(pick(client('1.1.1.1'), FIRST_ATTEMPT)).toEqual(a);
    expect(pick(client('2.2.2.2'), FIRST_ATTEMPT)).toEqual(b);
    expect(pick(client('1.1.1.1'), FIRST_ATTEMPT)).toEqual(a); // 2.2.2.2 is now the least recent
    expect(pick(client('3.3.3.3'), FIRST_ATTEMPT)).toEqual(c); // evicts 2.2.2.2
    expect(pick(client('1.1.1.1'), FIRST_ATTEMPT)).toEqual(a);
    expect(pick(client('2.2.2.2'), FIRST_ATTEMPT)).toEqual(a); // forgotten: the next in turn
  });

  it('refuses a non-positive timeout', () => {
    expect(() => clientIpAffinity([a], { timeoutSeconds: 0 })).toThrow(/positive/);
  });
});
