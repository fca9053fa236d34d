import { describe, expect, it } from 'vitest';
import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '@k8ts/base';
import { PodProbeSet } from './pod_probes.js';
import { ProbeError, type ProbeOutcome } from './probe_result.js';
import { ProbeWorker, type ProbeEvent, type ProbeKind, type ProbeResult } from './probe_worker.js';

/** Lets the probe's promise chain run (the injected handlers resolve at once): no time passes. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A scripted handler: each call takes the next outcome (the last one repeats). */
function script(...outcomes: (ProbeOutcome | Error)[]) {
  const calls: number[] = [];
  return {
    calls,
    run: (clock: FakeClock) => async () => {
      calls.push(clock.now());
      const next = outcomes.length > 1 ? outcomes.shift()! : outcomes[0]!;
      if (next instanceof Error) throw next;
      return next;
    },
  };
}
const pass: ProbeOutcome = { result: 'Success', output: '' };
const fail: ProbeOutcome = { result: 'Failure', output: 'HTTP probe failed with statuscode: 500' };

function worker(kind: ProbeKind, probe: Probe, clock: FakeClock, run: () => Promise<ProbeOutcome>, started?: () => boolean) {
  const results: [number, ProbeResult][] = [];
  const events: ProbeEvent[] = [];
  const w = new ProbeWorker({
    kind,
    probe,
    container: { name: 'app' },
    containerId: 'c1',
    podIP: '10.0.0.1',
    execSync: () => Promise.reject(new Error('unused')),
    clock,
    onResult: (result) => results.push([clock.now(), result]),
    onEvent: (event) => events.push(event),
    run,
    ...(started !== undefined ? { started } : {}),
  });
  return { w, results, events };
}

/** Fires what is due now (the first probe), then moves time on a second at a time. */
async function advance(clock: FakeClock, ms: number, step = 1000) {
  clock.advance(0);
  await settle();
  for (let elapsed = 0; elapsed < ms; elapsed += step) {
    clock.advance(step);
    await settle();
  }
}

describe('ProbeWorker', () => {
  it('probes at once and every periodSeconds (default 10 s); readiness starts Failure and passes after one success', async () => {
    const clock = new FakeClock(0);
    const s = script(pass);
    const { w, results } = worker('readiness', { httpGet: { port: 80 } }, clock, s.run(clock));
    expect(w.result).toBe('Failure');
    w.start();
    await advance(clock, 30_000);
    expect(s.calls).toEqual([0, 10_000, 20_000, 30_000]);
    expect(results).toEqual([[0, 'Success']]);
    w.stop();
    expect(clock.pending()).toBe(0);
  });

  it('changes the result only after failureThreshold failures (default 3) and successThreshold successes in a row', async () => {
    const clock = new FakeClock(0);
    const s = script(pass, fail, fail, pass, fail, fail, fail, pass, pass);
    const { w, results, events } = worker('readiness', { exec: { command: ['x'] }, periodSeconds: 1, successThreshold: 2 }, clock, s.run(clock));
    w.start();
    await advance(clock, 8000);
    // A lone pass (0 s, 3 s) is under successThreshold 2; three failures (4–6 s) keep Failure; passes at 7 s and 8 s flip it.
    expect(results).toEqual([[8000, 'Success']]);
    expect(events.filter((e) => e.reason === 'Unhealthy')).toHaveLength(5);
    expect(events[0]).toEqual({ type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 500' });
    w.stop();
  });

  it('waits initialDelaySeconds from the container start before the first probe', async () => {
    const clock = new FakeClock(5_000);
    const s = script(pass);
    const { w } = worker('readiness', { tcpSocket: { port: 80 }, initialDelaySeconds: 15, periodSeconds: 5 }, clock, s.run(clock));
    w.start();
    await advance(clock, 25_000);
    expect(s.calls).toEqual([20_000, 25_000, 30_000]);
    w.stop();
  });

  it('liveness starts Success, fails after three failures and then holds (no more probes for this container)', async () => {
    const clock = new FakeClock(0);
    const s = script(pass, fail);
    const { w, results } = worker('liveness', { exec: { command: ['x'] } }, clock, s.run(clock));
    expect(w.result).toBe('Success');
    w.start();
    await advance(clock, 60_000);
    expect(results).toEqual([[30_000, 'Failure']]);
    expect(s.calls).toEqual([0, 10_000, 20_000, 30_000]);
    w.stop();
  });

  it('throws away errored probes (an event says so) without counting them', async () => {
    const clock = new FakeClock(0);
    const s = script(fail, new ProbeError('invalid port number: 0'), fail, fail);
    const { w, results, events } = worker('liveness', { exec: { command: ['x'] }, periodSeconds: 1 }, clock, s.run(clock));
    w.start();
    await advance(clock, 2000);
    expect(results).toEqual([]);
    await advance(clock, 1000);
    expect(results).toEqual([[3000, 'Failure']]);
    expect(events[1]?.message).toBe('Liveness probe errored and resulted in unknown state: invalid port number: 0');
    w.stop();
  });

  it('a terminating pod stops liveness and counts it passing', async () => {
    const clock = new FakeClock(0);
    const s = script(fail);
    const { w, results } = worker('liveness', { exec: { command: ['x'] }, periodSeconds: 1 }, clock, s.run(clock));
    w.start();
    await advance(clock, 1000);
    w.terminating();
    await advance(clock, 5000);
    expect(s.calls).toEqual([0, 1000]);
    expect(results).toEqual([]);
    expect(w.result).toBe('Success');
  });
});

describe('PodProbeSet', () => {
  const container: Container = {
    name: 'app',
    startupProbe: { exec: { command: ['startup'] }, periodSeconds: 2, failureThreshold: 30 },
    livenessProbe: { exec: { command: ['liveness'] }, periodSeconds: 5 },
    readinessProbe: { exec: { command: ['readiness'] }, periodSeconds: 5 },
  };

  it('gates liveness and readiness on the startup probe, probes readiness at once when started, and reports liveness failures', async () => {
    const clock = new FakeClock(0);
    const calls: [number, string][] = [];
    let startupPasses = false;
    let live = true;
    let wakes = 0;
    const set = new PodProbeSet({
      clock,
      execSync: () => Promise.reject(new Error('unused')),
      wake: () => wakes++,
      run: async (probe) => {
        const which = probe.exec?.command?.[0] ?? '';
        calls.push([clock.now(), which]);
        const ok = which === 'startup' ? startupPasses : which === 'liveness' ? live : true;
        return ok ? pass : fail;
      },
    });
    const pod = { metadata: { name: 'p', uid: 'u' }, spec: { containers: [container] } };
    set.track(pod, [{ container, containerId: 'c1' }], '10.0.0.1');
    await settle();
    expect(set.started(container, 'c1')).toBe(false);
    expect(set.ready(container, 'c1')).toBe(false);
    await advance(clock, 4000);
    expect(calls.map(([, which]) => which)).toEqual(['startup', 'startup', 'startup']);

    startupPasses = true;
    await advance(clock, 2000);
    expect(set.started(container, 'c1')).toBe(true);
    expect(calls.filter(([, which]) => which === 'readiness')[0]).toEqual([6000, 'readiness']);
    expect(set.ready(container, 'c1')).toBe(true);
    expect(wakes).toBe(2);

    live = false;
    await advance(clock, 15_000);
    expect(set.livenessFailed('c1')).toBe('Container app failed liveness probe, will be restarted');

    set.track(pod, [{ container, containerId: 'c2' }], '10.0.0.1'); // restarted: a new instance starts over
    expect(set.livenessFailed('c2')).toBeUndefined();
    expect(set.started(container, 'c2')).toBe(false);
    set.stop();
    expect(clock.pending()).toBe(0);
  });

  it('counts containers without probes as started and ready', () => {
    const set = new PodProbeSet({ clock: new FakeClock(0), execSync: () => Promise.reject(new Error('unused')), wake: () => undefined });
    expect(set.ready({ name: 'x' }, 'c')).toBe(true);
    expect(set.started({ name: 'x' }, 'c')).toBe(true);
    expect(set.livenessFailed('c')).toBeUndefined();
  });
});
