import { apiErrors } from '@k8ts/apimachinery';

/**
 * Query parameters as kube-apiserver decodes them into ListOptions and DeleteOptions: integers go
 * through Go's strconv.ParseInt (its error becomes the 400 BadRequest message), a resourceVersion
 * through strconv.ParseUint ("invalid resource version: ..." from the storage layer).
 */

const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** strconv.ParseInt(text, 10, 64): an optional sign then decimal digits; its error text otherwise. */
export function parseInt64(text: string): number {
  const match = /^([+-]?)(\d+)$/.exec(text);
  if (match === null) throw apiErrors.badRequest(`strconv.ParseInt: parsing ${goQuote(text)}: invalid syntax`);
  const value = BigInt(text.replace(/^\+/, ''));
  if (value > INT64_MAX || value < -INT64_MAX - 1n) throw apiErrors.badRequest(`strconv.ParseInt: parsing ${goQuote(text)}: value out of range`);
  return Number(value);
}

/** An int64 query parameter, or undefined when absent. */
export function int64Param(query: URLSearchParams, key: string): number | undefined {
  const text = query.get(key);
  return text === null ? undefined : parseInt64(text);
}

/**
 * A resourceVersion: "" and "0" mean "any"; anything else must be what strconv.ParseUint accepts
 * (no sign), else kube's 400 "invalid resource version". Undefined for "" and "0".
 */
export function resourceVersionParam(query: URLSearchParams): number | undefined {
  const text = query.get('resourceVersion') ?? '';
  if (text === '' || text === '0') return undefined;
  const invalid = (why: string): never => {
    throw apiErrors.badRequest(`invalid resource version: strconv.ParseUint: parsing ${goQuote(text)}: ${why}`);
  };
  if (!/^\d+$/.test(text)) return invalid('invalid syntax');
  if (BigInt(text) > UINT64_MAX) return invalid('value out of range');
  return Number(text);
}

/** Go's %q for the strings a query carries (printable ASCII as is; the rest escaped). */
function goQuote(text: string): string {
  return JSON.stringify(text);
}
