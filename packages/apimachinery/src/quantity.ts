/**
 * Kubernetes resource.Quantity: "100m", "1.5", "2Gi", "1e3". Values are kept as exact fractions
 * (bigint numerator over a positive denominator) so that comparisons such as requests <= limits
 * never suffer from floating-point rounding; numbers come out only at the edge.
 */

/** The message k8s.io/apimachinery gives for a malformed quantity (ErrFormatWrong). */
export const QUANTITY_FORMAT_MESSAGE =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

export interface Quantity {
  /** value = numerator / denominator, denominator > 0. */
  readonly numerator: bigint;
  readonly denominator: bigint;
}

// Sign, digits with at most one '.', then a binary suffix, a decimal suffix or an exponent.
const QUANTITY_PATTERN = /^([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const BINARY_POWERS: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_POWERS: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** Parses a quantity as the API accepts it (JSON numbers included); throws with upstream's message. */
export function parseQuantity(input: string | number): Quantity {
  const parsed = tryParseQuantity(input);
  if (parsed === undefined) throw new Error(QUANTITY_FORMAT_MESSAGE);
  return parsed;
}

export function tryParseQuantity(input: unknown): Quantity | undefined {
  if (typeof input !== 'string' && typeof input !== 'number') return undefined;
  if (typeof input === 'number' && !Number.isFinite(input)) return undefined;
  const match = QUANTITY_PATTERN.exec(String(input));
  if (match === null) return undefined;
  const [, sign = '', number = '', suffix = ''] = match;
  const [whole = '', fraction = ''] = number.split('.');
  let numerator = BigInt(`${whole}${fraction}` || '0') * (sign === '-' ? -1n : 1n);
  let denominator = 10n ** BigInt(fraction.length);
  const { power10, power2 } = suffixPowers(suffix);
  if (power10 >= 0) numerator *= 10n ** BigInt(power10);
  else denominator *= 10n ** BigInt(-power10);
  numerator *= 2n ** BigInt(power2);
  return reduce(numerator, denominator);
}

export function isValidQuantity(input: unknown): boolean {
  return tryParseQuantity(input) !== undefined;
}

/** The value in base units (cores, bytes) as a number; may be fractional ("100m" is 0.1). */
export function quantityValue(quantity: Quantity): number {
  return Number(quantity.numerator) / Number(quantity.denominator);
}

/** The value in thousandths, rounded up as resource.Quantity.MilliValue does ("1.0001m" is 2). */
export function milliValue(quantity: Quantity): number {
  return Number(ceilDivide(quantity.numerator * 1000n, quantity.denominator));
}

/** The value rounded up to a whole base unit, as resource.Quantity.Value does. */
export function integerValue(quantity: Quantity): number {
  return Number(ceilDivide(quantity.numerator, quantity.denominator));
}

export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  const left = a.numerator * b.denominator;
  const right = b.numerator * a.denominator;
  return left < right ? -1 : left > right ? 1 : 0;
}

function suffixPowers(suffix: string): { power10: number; power2: number } {
  const binary = BINARY_POWERS[suffix];
  if (binary !== undefined) return { power10: 0, power2: binary };
  const decimal = DECIMAL_POWERS[suffix];
  if (decimal !== undefined) return { power10: decimal, power2: 0 };
  if (suffix === '') return { power10: 0, power2: 0 };
  return { power10: Number.parseInt(suffix.slice(1), 10), power2: 0 };
}

function ceilDivide(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator; // truncates toward zero
  return numerator % denominator > 0n ? quotient + 1n : quotient;
}

function reduce(numerator: bigint, denominator: bigint): Quantity {
  const divisor = gcd(numerator < 0n ? -numerator : numerator, denominator);
  return divisor > 1n ? { numerator: numerator / divisor, denominator: denominator / divisor } : { numerator, denominator };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}
