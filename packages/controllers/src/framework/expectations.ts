/**
 * Controller expectations, after client-go's ControllerExpectations and its UID-tracking wrapper
 * (k8s.io/kubernetes/pkg/controller): what a controller has asked the API for and not yet seen in
 * its informer cache, so that a sync run on a cache that lags behind its own writes does not create
 * or delete the same pods twice.
 *
 * Contract:
 * - `expectCreations(key, n)` / `expectDeletions(key, podKeys)` are called BEFORE the writes; they
 *   replace whatever the key expected before and start its TTL.
 * - The informer handlers lower them: `creationObserved(key)` for each pod seen added,
 *   `deletionObserved(key, podKey)` for each pod seen deleted (or marked for deletion) — a deletion
 *   counts once, and only for a pod this key expected to delete. A write that failed is lowered by
 *   the caller the same way, since the informer will never see it.
 * - `satisfied(key)`: true when nothing is expected (fulfilled, never set, or deleted) or when the
 *   expectations are older than the TTL (5 minutes as upstream: a lost watch event must not put a
 *   controller to sleep forever). A sync acts (creates/deletes) only when satisfied.
 * - Expectations live in one process's memory: a new leader starts with none, and its informers'
 *   first list is a fresh read, so it sees what the previous leader wrote.
 */
import { realClock, type Clock } from '@k8ts/base';

/** Upstream's ExpectationsTimeout. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Expected {
  add: number;
  del: number;
  readonly setAtMs: number;
  /** Pod keys whose deletion is still expected. */
  readonly deleteKeys: Set<string>;
}

export class ControllerExpectations {
  private readonly byKey = new Map<string, Expected>();

  constructor(
    private readonly clock: Clock = realClock,
    private readonly ttlMs: number = EXPECTATIONS_TIMEOUT_MS,
  ) {}

  /** True when the controller may act on `key`: nothing outstanding, or the expectations expired. */
  satisfied(key: string): boolean {
    const expected = this.byKey.get(key);
    if (expected === undefined) return true;
    if (expected.add <= 0 && expected.del <= 0) return true;
    return this.clock.now() - expected.setAtMs > this.ttlMs;
  }

  /** Expects `count` creations for `key`, replacing what it expected before. */
  expectCreations(key: string, count: number): void {
    this.byKey.set(key, { add: count, del: 0, setAtMs: this.clock.now(), deleteKeys: new Set() });
  }

  /** Expects the deletion of exactly these pods (namespace/name keys), replacing what `key` expected before. */
  expectDeletions(key: string, podKeys: readonly string[]): void {
    const deleteKeys = new Set(podKeys);
    this.byKey.set(key, { add: 0, del: deleteKeys.size, setAtMs: this.clock.now(), deleteKeys });
  }

  /** One creation for `key` was seen (or will never be: the create failed). */
  creationObserved(key: string): void {
    const expected = this.byKey.get(key);
    if (expected !== undefined) expected.add--;
  }

  /** The pod `podKey` was seen deleted (or its delete failed); counts once, and only if expected. */
  deletionObserved(key: string, podKey: string): void {
    const expected = this.byKey.get(key);
    if (expected === undefined || !expected.deleteKeys.delete(podKey)) return;
    expected.del--;
  }

  /** Forgets `key` (its object is gone, so a new one of the same name starts clean). */
  delete(key: string): void {
    this.byKey.delete(key);
  }

  /** What `key` still expects (for logs and tests). */
  pending(key: string): { readonly add: number; readonly del: number } | undefined {
    const expected = this.byKey.get(key);
    return expected === undefined ? undefined : { add: expected.add, del: expected.del };
  }
}
