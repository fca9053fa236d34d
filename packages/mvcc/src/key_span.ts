import { isFromKeyEnd, toKeyString } from './bytes.js';

/**
 * Which keys a request names, in etcd's terms: no rangeEnd is the single key; rangeEnd [0] is every
 * key >= key; anything else is [key, rangeEnd), empty when rangeEnd <= key. Keys are binary strings.
 */
export type KeySpan =
  | { readonly kind: 'single'; readonly key: string }
  | { readonly kind: 'from'; readonly key: string }
  | { readonly kind: 'range'; readonly key: string; readonly end: string };

export function keySpan(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeySpan {
  const start = toKeyString(key);
  if (rangeEnd === undefined || rangeEnd.length === 0) return { kind: 'single', key: start };
  if (isFromKeyEnd(rangeEnd)) return { kind: 'from', key: start };
  return { kind: 'range', key: start, end: toKeyString(rangeEnd) };
}

export function spanContains(span: KeySpan, key: string): boolean {
  switch (span.kind) {
    case 'single':
      return key === span.key;
    case 'from':
      return key >= span.key;
    case 'range':
      return key >= span.key && key < span.end;
  }
}
