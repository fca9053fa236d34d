/**
 * Replicated commands travel in Raft entries as JSON in which every byte array becomes
 * {"$b": base64}: binary-safe, readable in a WAL dump, and the same bytes on every member.
 */
const BYTES_TAG = '$b';

export function encodeJson(value: unknown): Uint8Array {
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key: string, replaced: unknown) {
    // `this[key]` is the value before toJSON (Buffer.toJSON would give {type, data}).
    const raw = this[key];
    if (raw instanceof Uint8Array) return { [BYTES_TAG]: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
    return replaced;
  });
  return Buffer.from(text, 'utf8');
}

export function decodeJson<T>(data: Uint8Array): T {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && BYTES_TAG in value) {
      const encoded = (value as Record<string, unknown>)[BYTES_TAG];
      if (typeof encoded === 'string') return new Uint8Array(Buffer.from(encoded, 'base64'));
    }
    return value;
  }) as T;
}
