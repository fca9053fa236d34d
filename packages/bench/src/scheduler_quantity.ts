/**
 * Kubernetes resource quantities ("100m", "500Mi", "4", "1e3") as plain numbers, for the bench's
 * own arithmetic: what a node allows and what its pods request. Rounded up as
 * resource.Quantity's MilliValue/Value round, so a checker never under-counts a request.
 */

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** The quantity's value in its base unit (cores, bytes, count). */
export function parseQuantity(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text)) throw new RangeError(`quantity ${text} is not finite`);
    return text;
  }
  const match = QUANTITY.exec(text.trim());
  if (match === null) throw new RangeError(`"${text}" is not a quantity`);
  const number = Number(match[1]);
  const suffix = match[2] ?? '';
  if (/^[eE]/.test(suffix)) return number * 10 ** Number(suffix.slice(1));
  return number * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

/** CPU in millicores, rounded up ("100m" → 100, "4" → 4000, "0.0001" → 1). */
export function parseCpuMillis(text: string | number): number {
  return ceilish(parseQuantity(text) * 1000);
}

/** Memory (or any byte count) in bytes, rounded up ("500Mi" → 524288000). */
export function parseMemoryBytes(text: string | number): number {
  return ceilish(parseQuantity(text));
}

/** Math.ceil that ignores float noise below a millionth ("0.3" × 1000 is 300, not 301). */
function ceilish(value: number): number {
  const rounded = Math.round(value);
  return Math.abs(value - rounded) < 1e-6 ? rounded : Math.ceil(value);
}

/** "3600m", "4" — the millicores as the shortest quantity. */
export function formatCpuMillis(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** "500Mi", "32Gi", or bytes when no binary suffix divides evenly. */
export function formatMemoryBytes(bytes: number): string {
  for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const) {
    const unit = BINARY[suffix] ?? 1;
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}
