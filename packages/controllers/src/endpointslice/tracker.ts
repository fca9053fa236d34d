/**
 * What this controller last wrote to each slice, so that a cache still behind its own writes is
 * recognised (upstream's EndpointSliceTracker). Upstream tracks metadata.generation; k8ts'
 * apiserver does not keep a generation for EndpointSlices, so the resourceVersion the write
 * returned is tracked instead (the store's revisions: numbers that only grow).
 *
 * - After a create or update, the slice's resourceVersion is remembered; after a delete, that the
 *   slice is expected to go.
 * - `staleSlices`: the cache lags when it holds a slice older than the one written, a slice expected
 *   deleted, or misses a slice written — the sync must wait (and is retried) rather than act twice.
 * - `shouldSync`: a slice event that is not the echo of our own write (someone else changed it).
 */
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

const DELETION_EXPECTED = 'deletion-expected';

export class EndpointSliceTracker {
  /** service key → slice uid → resourceVersion written (or DELETION_EXPECTED). */
  private readonly byService = new Map<string, Map<string, string>>();

  update(serviceKey: string, slice: EndpointSlice): void {
    this.slicesOf(serviceKey).set(slice.metadata?.uid ?? '', slice.metadata?.resourceVersion ?? '');
  }

  expectDeletion(serviceKey: string, slice: EndpointSlice): void {
    this.slicesOf(serviceKey).set(slice.metadata?.uid ?? '', DELETION_EXPECTED);
  }

  has(serviceKey: string, slice: EndpointSlice): boolean {
    return this.byService.get(serviceKey)?.has(slice.metadata?.uid ?? '') ?? false;
  }

  /** A slice is gone: forget it. True when its deletion was expected (ours), false when someone else deleted it. */
  handleDeletion(serviceKey: string, slice: EndpointSlice): boolean {
    const slices = this.byService.get(serviceKey);
    const uid = slice.metadata?.uid ?? '';
    const written = slices?.get(uid);
    slices?.delete(uid);
    return written === DELETION_EXPECTED;
  }

  /** Whether an event about this slice is news: not tracked, or newer than what we wrote. */
  shouldSync(serviceKey: string, slice: EndpointSlice): boolean {
    const written = this.byService.get(serviceKey)?.get(slice.metadata?.uid ?? '');
    if (written === undefined || written === DELETION_EXPECTED) return true;
    return compareVersions(slice.metadata?.resourceVersion ?? '', written) > 0;
  }

  /** Whether the cached slices of a Service are behind what this controller wrote. */
  staleSlices(serviceKey: string, cached: readonly EndpointSlice[]): boolean {
    const written = this.byService.get(serviceKey);
    if (written === undefined) return false;
    const seen = new Set<string>();
    for (const slice of cached) {
      const uid = slice.metadata?.uid ?? '';
      seen.add(uid);
      const version = written.get(uid);
      if (version === undefined) continue;
      if (version === DELETION_EXPECTED || compareVersions(version, slice.metadata?.resourceVersion ?? '') > 0) return true;
    }
    for (const [uid, version] of written) if (version !== DELETION_EXPECTED && !seen.has(uid)) return true;
    return false;
  }

  deleteService(serviceKey: string): void {
    this.byService.delete(serviceKey);
  }

  private slicesOf(serviceKey: string): Map<string, string> {
    let slices = this.byService.get(serviceKey);
    if (slices === undefined) this.byService.set(serviceKey, (slices = new Map()));
    return slices;
  }
}

/** Orders two resourceVersions (decimal revisions); unparsable ones compare as equal. */
export function compareVersions(a: string, b: string): number {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return 0;
  const left = BigInt(a);
  const right = BigInt(b);
  return left > right ? 1 : left < right ? -1 : 0;
}
