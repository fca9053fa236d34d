/**
 * @k8ts/base: the one copy of each small helper every package shares, with no I/O and no
 * dependencies, so that pure logic packages may use it too.
 * - `Clock`, `realClock`, `FakeClock`, `sleep`, `every`: time, injectable for tests.
 * - `seededRandom`: a seeded PRNG; one seed replays a whole run.
 * - `invariant`, `InvariantError`: assertions that stay on.
 */
export { FakeClock, every, realClock, sleep, type Clock, type TimerHandle } from './clock.js';
export { seededRandom } from './random.js';
export { InvariantError, invariant } from './invariant.js';
