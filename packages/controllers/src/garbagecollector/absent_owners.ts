import { identityKey, type ObjectIdentity } from './identity.js';

/**
 * Owners the API server said do not exist (upstream's absentOwnerCache, 500 entries): a uid never
 * comes back, so one NotFound answers for every dependent of a deleted owner. Bounded, least
 * recently used forgotten first.
 */
export class AbsentOwners {
  private readonly keys = new Map<string, true>();

  constructor(private readonly capacity = 500) {}

  add(identity: ObjectIdentity): void {
    const key = identityKey(identity);
    this.keys.delete(key);
    this.keys.set(key, true);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.keys().next().value as string);
  }

  has(identity: ObjectIdentity): boolean {
    const key = identityKey(identity);
    if (!this.keys.has(key)) return false;
    this.keys.delete(key);
    this.keys.set(key, true);
    return true;
  }

  get size(): number {
    return this.keys.size;
  }
}
