/**
 * Resolves once every pending microtask, and every one those queue, has run: the nodes' async
 * drivers have gone as far as they can before the next simulated event. Node runs the nextTick
 * queue only when the microtask queue is empty, so a tick queued from inside a microtask (after
 * the first await) is a barrier behind all of them. It never waits for time, so a seed replays exactly.
 * (A setImmediate barrier gives the same traces, but costs a turn of the event loop per event.)
 */
export async function settle(): Promise<void> {
  await undefined;
  await new Promise<void>((resolve) => process.nextTick(resolve));
}
