/**
 * Hostile but valid values for the apiserver's fuzz cases (apiserver_cases.ts): names, labels,
 * selectors, query parameters and numbers at the edges kube-apiserver checks, and the
 * malformations applied to bodies (truncation, bit flips, a broken protobuf envelope).
 */

export type Random = () => number;

export function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

export function chance(random: Random, probability: number): boolean {
  return random() < probability;
}

export function integer(random: Random, below: number): number {
  return Math.floor(random() * below);
}

const INT64_MAX = '9223372036854775807';

/** Numbers as JSON text: int64 and uint64 edges, floats, exponents and what JSON.parse rounds. */
export const NUMBER_TEXTS = [
  '0', '-1', '1', '2147483647', '2147483648', '-2147483649', INT64_MAX, '9223372036854775808', '-9223372036854775808',
  '-9223372036854775809', '18446744073709551616', '1e308', '1e309', '-0', '0.5', '1.0', '3e2', '123456789012345678901234567890',
] as const;

/** Values of the wrong type for whatever field they replace. */
export const WRONG_TYPE_TEXTS = ['"3"', 'true', 'null', '[]', '{}', '[1,2]', '{"a":{"b":1}}', '""', '"\\u0000"', '1.5', INT64_MAX] as const;

/**
 * Object names: half the time the existing fixture (so that hostile requests meet data), else
 * kube's DNS-1123 edges (63/253/254 characters), unicode, dots, 8 KiB.
 */
export function hostileName(random: Random, fixture: string): string {
  if (chance(random, 0.5)) return fixture;
  return pick(random, [
    'fuzz-x',
    'a'.repeat(63),
    'a'.repeat(64),
    'a'.repeat(253),
    'a'.repeat(254),
    `${'a'.repeat(62)}.${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(61)}`,
    'Upper',
    'ñame',
    '名前',
    '💥',
    '.',
    '..',
    '-a',
    'a-',
    'a_b',
    'a b',
    'a:b',
    'a\u0000b',
    'a'.repeat(8192),
  ]);
}

export function hostileLabels(random: Random): Record<string, string> {
  const key = pick(random, ['app', 'a'.repeat(63), 'a'.repeat(64), `${'p'.repeat(253)}/name`, `${'p'.repeat(254)}/name`, 'example.com/x', '/x', 'x/', 'a/b/c', 'ünicode', '', '-a', 'a.b']);
  const value = pick(random, ['', 'v', 'v'.repeat(63), 'v'.repeat(64), 'ü', 'a b', '-v', 'v.v', '1', 'true']);
  return { [key]: value, ...(chance(random, 0.3) ? { fuzz: 'yes' } : {}) };
}

export function labelSelector(random: Random): string {
  return pick(random, [
    'app=fuzz', 'app!=fuzz', 'app in (a,b)', 'app notin ()', '!app', 'app', 'app in (', 'app==fuzz', '=x', ',,', 'a=b=c', 'a>1', 'a<1', 'a gt 1',
    `${'a'.repeat(64)}=x`, `x=${'v'.repeat(64)}`, 'ü=ü', 'a,b,c,d', 'app in (a b)', '(', 'a=b,!c,d notin (e)', ' ', 'a%', 'app=fuzz,'.repeat(100),
  ]);
}

export function fieldSelector(random: Random): string {
  return pick(random, [
    'metadata.name=fixture', 'metadata.name!=fixture', 'metadata.namespace=default', 'spec.nodeName=', 'status.phase=Running', 'type=Opaque',
    'spec.unschedulable=true', 'unknown.field=x', 'metadata.name', 'a=b=c', 'metadata.name in (a)', 'metadata.name==x', '=', ',', 'metadata.name=ü',
  ]);
}

export function resourceVersion(random: Random): string {
  return pick(random, ['', '0', '1', '2', '-1', 'abc', '1e3', ' 1', '+1', '0x10', INT64_MAX, '18446744073709551615', '18446744073709551616', '99999999', '1.0']);
}

/** A resourceVersion well past the store's revision: kube answers some of these with 504 "Too large resource version". */
export function isFutureResourceVersion(text: string): boolean {
  return /^\d+$/.test(text) && BigInt(text) > 10_000_000n;
}

export function int64Text(random: Random): string {
  return pick(random, ['0', '1', '-1', '-5', 'abc', '1.5', '', ' 1', '+1', '0x10', INT64_MAX, '9223372036854775808', '-9223372036854775808', '1e3']);
}

/**
 * A continue token as kube-apiserver's DecodeContinue reads it (base64url without padding of
 * `{"v":"meta.k8s.io/v1","rv":<revision>,"start":<key relative to the collection>}`), with each
 * part at its edges: valid relative keys (to reach the list behind the decoder), revision 0 and
 * negative, empty and traversal keys (path.Clean refusals), other versions, then broken base64
 * and broken JSON. Revisions stay small: one past the store's (a future revision) is a plain etcd
 * error that kube-apiserver itself answers with a 500.
 */
export function continueToken(random: Random): string {
  const encode = (text: string): string => Buffer.from(text).toString('base64url');
  const valid = { v: 'meta.k8s.io/v1', rv: pick(random, [1, 2, 3, -1, -9223372036854775000]), start: pick(random, ['a', 'fuzz-x', 'fixture', 'default/a', 'zzz', 'a\u0000', '\u0000', 'ñ', '/x', 'a/b']) };
  const edge = (): object => {
    switch (integer(random, 3)) {
      case 0:
        return { ...valid, v: pick(random, ['k8ts.io/v1', '', 'meta.k8s.io/v2', 'META.K8S.IO/V1', 'v1']) };
      case 1:
        return { ...valid, rv: 0 };
      default:
        return { ...valid, start: pick(random, ['', '../secrets/x', 'a/../../b', '/x/./y', '..', '.', '/', 'a/', 'a//b', '/../x', 'x/..']) };
    }
  };
  switch (integer(random, 4)) {
    case 0:
      return encode(JSON.stringify(valid));
    case 1:
      return encode(JSON.stringify(edge()));
    case 2:
      // Fields of the wrong JSON type, absent, null or unknown; JSON that is not an object, or not JSON.
      return encode(pick(random, [
        JSON.stringify({ ...valid, rv: pick<unknown>(random, ['1', 1.5, 1e300, 2 ** 63, true, null, [1]]) }),
        JSON.stringify({ ...valid, start: pick<unknown>(random, [5, null, ['a'], { a: 1 }, false]) }),
        JSON.stringify({ ...valid, v: pick<unknown>(random, [1, null, ['meta.k8s.io/v1']]) }),
        JSON.stringify({ v: valid.v, rv: valid.rv }),
        JSON.stringify({ v: valid.v, start: valid.start }),
        JSON.stringify({ ...valid, extra: 'x' }),
        // Go's encoding/json matches field names case-insensitively.
        JSON.stringify({ V: valid.v, RV: valid.rv, Start: valid.start }),
        '{}', 'null', '[]', '"meta.k8s.io/v1"', '7', 'true',
        '{"v":', '{"v":"meta.k8s.io/v1","rv":1,"start":"a"', "{'v':1}", 'x', '', ' ', '{"v":"meta.k8s.io/v1",,}', '\u00ff\u00fe',
      ]));
    default: {
      // Broken base64: padding, the standard alphabet, a lone last character, bytes outside it (Go skips CR and LF).
      const good = encode(JSON.stringify(chance(random, 0.5) ? valid : edge()));
      return pick(random, [
        `${good}=`,
        `${good.slice(0, -1)}+`,
        `${good}/`,
        `${good}${'A'.repeat((5 - (good.length % 4)) % 4 || 4)}`,
        Buffer.from(JSON.stringify(valid)).toString('base64'),
        'abc', 'a', '%%%', '====', 'ü', '\r\n', `${good.slice(0, 4)}\n${good.slice(4)}`, `${good.slice(0, 8)} ${good.slice(8)}`,
      ]);
    }
  }
}

export function truncate(random: Random, body: Buffer): Buffer {
  if (body.length === 0) return body;
  return body.subarray(0, integer(random, body.length));
}

export function flipBits(random: Random, body: Buffer): Buffer {
  const flipped = Buffer.from(body);
  if (flipped.length === 0) return flipped;
  const flips = 1 + integer(random, 8);
  for (let i = 0; i < flips; i++) {
    const at = integer(random, flipped.length);
    flipped[at] = (flipped[at] ?? 0) ^ (1 << integer(random, 8));
  }
  return flipped;
}

export function randomBytes(random: Random, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => integer(random, 256)));
}

/** The kube protobuf envelope ("k8s\0" + runtime.Unknown) around a ConfigMap, then broken or not. */
export function protobufConfigMap(name: string, data: Record<string, string>): Buffer {
  const field = (number: number, bytes: Buffer): Buffer => Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
  const text = (value: string): Buffer => Buffer.from(value, 'utf8');
  const meta = field(1, text(name));
  const entries = Object.entries(data).map(([key, value]) => field(2, Buffer.concat([field(1, text(key)), field(2, text(value))])));
  const configMap = Buffer.concat([field(1, meta), ...entries]);
  const typeMeta = Buffer.concat([field(1, text('v1')), field(2, text('ConfigMap'))]);
  return Buffer.concat([Buffer.from('k8s\u0000', 'latin1'), field(1, typeMeta), field(2, configMap)]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** YAML for JSON-shaped data: block mappings and sequences, scalars as JSON (valid YAML flow scalars). */
export function toYaml(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return value.map((item) => `\n${indent}- ${toYaml(item, `${indent}  `).replace(/^\n\s*/, '')}`).join('');
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return entries.map(([key, item]) => `\n${indent}${JSON.stringify(key)}: ${toYaml(item, `${indent}  `)}`).join('');
  }
  return JSON.stringify(value) ?? 'null';
}
