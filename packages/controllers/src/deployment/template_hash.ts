/**
 * The pod-template-hash: the label that ties a ReplicaSet (its name, selector and pods) to one pod
 * template of its Deployment. Upstream hashes the template with fnv-32a (over a Go-specific dump)
 * plus status.collisionCount, and writes the decimal number through rand.SafeEncodeString. Here the
 * hash is fnv-32a over the template's canonical JSON (keys sorted; null, empty objects and empty
 * lists dropped, so semantically equal templates hash alike), plus collisionCount as upstream adds
 * it, rendered the same safe-encoded way ("5d8f9c7b6"-like).
 */
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** The value with keys sorted and null/undefined, {} and [] removed (Go's semantic equality of nil and empty). */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonical);
    return items.length === 0 ? undefined : items.map((item) => (item === undefined ? null : item));
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => [key, canonical((value as Record<string, unknown>)[key])] as const)
      .filter(([, item]) => item !== undefined);
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  return value === null ? undefined : value;
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value) ?? null);
}

export function fnv32a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

// apimachinery's rand alphabet: no vowels (no words) and no easily confused characters.
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each character replaced by the alphabet's character at its code modulo 27. */
export function safeEncodeString(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHABET[text.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** The pod-template-hash of `template` for a Deployment that has seen `collisionCount` collisions. */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount: number | undefined): string {
  const json = new TextEncoder().encode(canonicalJson(template ?? {}));
  let bytes = json;
  if (collisionCount !== undefined) {
    // As upstream: 8 bytes, the count little-endian in the first 4.
    bytes = new Uint8Array(json.length + 8);
    bytes.set(json);
    new DataView(bytes.buffer).setUint32(json.length, collisionCount >>> 0, true);
  }
  return safeEncodeString(String(fnv32a(bytes)));
}

/** Templates equal but for their pod-template-hash label (upstream's EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJson(withoutHash(a)) === canonicalJson(withoutHash(b));
}

function withoutHash(template: PodTemplateSpec | undefined): PodTemplateSpec {
  const labels = { ...(template?.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  return { ...template, metadata: { ...template?.metadata, labels } };
}
