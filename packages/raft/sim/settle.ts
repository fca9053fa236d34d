/**
 * Resolves once every pending microtask, and every one those queue, has run: the nodes' async
 * drivers have gone as far as they can before the next simulated event. It waits for one turn of
 * Node's event loop and never for virtual time, so a seed still replays exactly.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
