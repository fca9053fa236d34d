import { describe, expect, test } from 'vitest';
import {
  HpackDecoder,
  HpackError,
  hpackIndexed,
  hpackLiteral,
  hpackLiteralIndexedName,
  STATIC_TABLE,
  StaticIndex,
} from './hpack.js';
import { EOS, huffmanCode, huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';

interface Example {
  id: string;
  title: string;
  hex: string;
  headers: [string, string][];
  /** The dynamic table after decoding, newest first, and its size. */
  table: [string, string][];
  size: number;
}

/** RFC 7541 Appendix C.2-C.6, as printed there (hex dumps, decoded header lists, dynamic tables). */
const EXAMPLES: Example[] = [
  {
    id: 'C.2.1',
    title: 'Literal Header Field with Indexing',
    hex: '400a637573746f6d2d6b65790d637573746f6d2d686561646572',
    headers: [
      ['custom-key', 'custom-header'],
    ],
    table: [
      ['custom-key', 'custom-header'],
    ],
    size: 55,
  },
  {
    id: 'C.2.2',
    title: 'Literal Header Field without Indexing',
    hex: '040c2f73616d706c652f70617468',
    headers: [
      [':path', '/sample/path'],
    ],
    table: [],
    size: 0,
  },
  {
    id: 'C.2.3',
    title: 'Literal Header Field Never Indexed',
    hex: '100870617373776f726406736563726574',
    headers: [
      ['password', 'secret'],
    ],
    table: [],
    size: 0,
  },
  {
    id: 'C.2.4',
    title: 'Indexed Header Field',
    hex: '82',
    headers: [
      [':method', 'GET'],
    ],
    table: [],
    size: 0,
  },
  {
    id: 'C.3.1',
    title: 'First Request',
    hex: '828684410f7777772e6578616d706c652e636f6d',
    headers: [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ],
    table: [
      [':authority', 'www.example.com'],
    ],
    size: 57,
  },
  {
    id: 'C.3.2',
    title: 'Second Request',
    hex: '828684be58086e6f2d6361636865',
    headers: [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
      ['cache-control', 'no-cache'],
    ],
    table: [
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    size: 110,
  },
  {
    id: 'C.3.3',
    title: 'Third Request',
    hex:
      '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565',
    headers: [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/index.html'],
      [':authority', 'www.example.com'],
      ['custom-key', 'custom-value'],
    ],
    table: [
      ['custom-key', 'custom-value'],
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    size: 164,
  },
  {
    id: 'C.4.1',
    title: 'First Request',
    hex: '828684418cf1e3c2e5f23a6ba0ab90f4ff',
    headers: [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ],
    table: [
      [':authority', 'www.example.com'],
    ],
    size: 57,
  },
  {
    id: 'C.4.2',
    title: 'Second Request',
    hex: '828684be5886a8eb10649cbf',
    headers: [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
      ['cache-control', 'no-cache'],
    ],
    table: [
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    size: 110,
  },
  {
    id: 'C.4.3',
    title: 'Third Request',
    hex: '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf',
    headers: [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/index.html'],
      [':authority', 'www.example.com'],
      ['custom-key', 'custom-value'],
    ],
    table: [
      ['custom-key', 'custom-value'],
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ],
    size: 164,
  },
  {
    id: 'C.5.1',
    title: 'First Response',
    hex:
      '4803333032580770726976617465611d4d6f6e2c203231204f63742032303133' +
      '2032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d70' +
      '6c652e636f6d',
    headers: [
      [':status', '302'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ],
    table: [
      ['location', 'https://www.example.com'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['cache-control', 'private'],
      [':status', '302'],
    ],
    size: 222,
  },
  {
    id: 'C.5.2',
    title: 'Second Response',
    hex: '4803333037c1c0bf',
    headers: [
      [':status', '307'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ],
    table: [
      [':status', '307'],
      ['location', 'https://www.example.com'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['cache-control', 'private'],
    ],
    size: 222,
  },
  {
    id: 'C.5.3',
    title: 'Third Response',
    hex:
      '88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d' +
      '54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f5049' +
      '5541585157454f49553b206d61782d6167653d333630303b2076657273696f6e' +
      '3d31',
    headers: [
      [':status', '200'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
      ['location', 'https://www.example.com'],
      ['content-encoding', 'gzip'],
      ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
    ],
    table: [
      ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
      ['content-encoding', 'gzip'],
      ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
    ],
    size: 215,
  },
  {
    id: 'C.6.1',
    title: 'First Response',
    hex:
      '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a6' +
      '2d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
    headers: [
      [':status', '302'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ],
    table: [
      ['location', 'https://www.example.com'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['cache-control', 'private'],
      [':status', '302'],
    ],
    size: 222,
  },
  {
    id: 'C.6.2',
    title: 'Second Response',
    hex: '4883640effc1c0bf',
    headers: [
      [':status', '307'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ],
    table: [
      [':status', '307'],
      ['location', 'https://www.example.com'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['cache-control', 'private'],
    ],
    size: 222,
  },
  {
    id: 'C.6.3',
    title: 'Third Response',
    hex:
      '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab' +
      '77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f' +
      '9587316065c003ed4ee5b1063d5007',
    headers: [
      [':status', '200'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
      ['location', 'https://www.example.com'],
      ['content-encoding', 'gzip'],
      ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
    ],
    table: [
      ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
      ['content-encoding', 'gzip'],
      ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
    ],
    size: 215,
  },
];

const example = (id: string): Example => EXAMPLES.find((e) => e.id === id)!;
const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const bytes = (...b: number[]): Buffer => Buffer.from(b);

/** Decodes a series of examples with one decoder, checking the fields and the dynamic table after each. */
function runSeries(decoder: HpackDecoder, ids: string[]): void {
  for (const id of ids) {
    const e = example(id);
    expect(decoder.decode(hex(e.hex)), id).toEqual(e.headers);
    expect(decoder.tableEntries(), id).toEqual(e.table);
    expect(decoder.tableSize(), id).toBe(e.size);
  }
}

function expectHpackError(block: Buffer, decoder = new HpackDecoder()): void {
  expect(() => decoder.decode(block)).toThrow(HpackError);
}

describe('Huffman code (Appendix B)', () => {
  test('codes match the RFC', () => {
    const at = (c: string): number => c.charCodeAt(0);
    expect(huffmanCode(at('0'))).toEqual([0b00000, 5]);
    expect(huffmanCode(at('a'))).toEqual([0b00011, 5]);
    expect(huffmanCode(at(' '))).toEqual([0b010100, 6]);
    expect(huffmanCode(at(':'))).toEqual([0x5c, 7]);
    expect(huffmanCode(at('&'))).toEqual([0xf8, 8]);
    expect(huffmanCode(at('\\'))).toEqual([0x7fff0, 19]);
    expect(huffmanCode(0)).toEqual([0x1ff8, 13]);
    expect(huffmanCode(1)).toEqual([0x7fffd8, 23]);
    expect(huffmanCode(10)).toEqual([0x3ffffffc, 30]);
    expect(huffmanCode(13)).toEqual([0x3ffffffd, 30]);
    expect(huffmanCode(22)).toEqual([0x3ffffffe, 30]);
    expect(huffmanCode(127)).toEqual([0xffffffc, 28]);
    expect(huffmanCode(199)).toEqual([0x1ffffec, 25]);
    expect(huffmanCode(255)).toEqual([0x3ffffee, 26]);
    expect(huffmanCode(EOS)).toEqual([0x3fffffff, 30]);
  });

  test('round trip of all 256 octet values, together and one by one', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const encoded = huffmanEncode(all);
    expect(encoded.length).toBe(huffmanEncodedLength(all));
    expect([...huffmanDecode(encoded)]).toEqual([...all]);
    for (let b = 0; b < 256; b++) {
      const one = bytes(b);
      expect([...huffmanDecode(huffmanEncode(one))], `octet ${b}`).toEqual([b]);
      // Every prefix-length mix of padding: the octet repeated 1..8 times.
      const run = Buffer.alloc(1 + (b % 8), b);
      expect(huffmanDecode(huffmanEncode(run)).equals(run), `octet ${b} x${run.length}`).toBe(true);
    }
  });

  test('encoder matches the RFC examples', () => {
    expect(huffmanEncode(Buffer.from('www.example.com')).toString('hex')).toBe('f1e3c2e5f23a6ba0ab90f4ff');
    expect(huffmanEncode(Buffer.from('no-cache')).toString('hex')).toBe('a8eb10649cbf');
    expect(huffmanEncode(Buffer.from('custom-key')).toString('hex')).toBe('25a849e95ba97d7f');
    expect(huffmanEncode(Buffer.from('Mon, 21 Oct 2013 20:13:21 GMT')).toString('hex')).toBe(
      'd07abe941054d444a8200595040b8166e082a62d1bff',
    );
  });

  test('empty string', () => {
    expect(huffmanDecode(new Uint8Array(0)).length).toBe(0);
    expect(huffmanEncode(new Uint8Array(0)).length).toBe(0);
  });

  test('padding must be at most 7 bits and all 1s', () => {
    expect(huffmanDecode(bytes(0x1f)).toString('latin1')).toBe('a'); // 00011 + 111
    expect(() => huffmanDecode(bytes(0x1e))).toThrow(HpackError); // 00011 + 110
    expect(() => huffmanDecode(bytes(0x18))).toThrow(HpackError); // 00011 + 000
    expect(() => huffmanDecode(bytes(0x1f, 0xff))).toThrow(HpackError); // 11 bits of 1s
    expect(() => huffmanDecode(bytes(0xff))).toThrow(HpackError); // 8 bits of 1s, no symbol
    // '0' '0' '0' then 1 bit of padding; then the same with a 0 as padding.
    expect(huffmanDecode(bytes(0x00, 0x01)).toString('latin1')).toBe('000');
    expect(() => huffmanDecode(bytes(0x00, 0x00))).toThrow(HpackError);
  });

  test('EOS inside a string is rejected', () => {
    expect(() => huffmanDecode(bytes(0xff, 0xff, 0xff, 0xff))).toThrow(HpackError); // EOS + 2 bits of 1s
    expect(() => huffmanDecode(bytes(0xff, 0xff, 0xff, 0xfc))).toThrow(HpackError); // EOS + 00
    // 'a' (00011) then EOS (30 1s) then 5 bits of padding: 40 bits.
    expect(() => huffmanDecode(bytes(0x1f, 0xff, 0xff, 0xff, 0xff))).toThrow(HpackError);
  });
});

describe('RFC 7541 Appendix C', () => {
  test('C.1 integers: 10 and 1337 with a 5-bit prefix (as table size updates)', () => {
    const decoder = new HpackDecoder();
    decoder.decode(bytes(0x20 | 0x0a));
    expect(decoder.tableMaxSize()).toBe(10);
    decoder.decode(bytes(0x20 | 0x1f, 0x9a, 0x0a));
    expect(decoder.tableMaxSize()).toBe(1337);
  });

  for (const id of ['C.2.1', 'C.2.2', 'C.2.3', 'C.2.4']) {
    test(`${id} ${example(id).title}`, () => runSeries(new HpackDecoder(), [id]));
  }

  test('C.3 requests without Huffman coding, one decoder', () => {
    runSeries(new HpackDecoder(), ['C.3.1', 'C.3.2', 'C.3.3']);
  });

  test('C.4 requests with Huffman coding, one decoder', () => {
    runSeries(new HpackDecoder(), ['C.4.1', 'C.4.2', 'C.4.3']);
  });

  test('C.5 responses without Huffman coding, 256-octet table with evictions', () => {
    runSeries(new HpackDecoder(256), ['C.5.1', 'C.5.2', 'C.5.3']);
  });

  test('C.6 responses with Huffman coding, 256-octet table with evictions', () => {
    runSeries(new HpackDecoder(256), ['C.6.1', 'C.6.2', 'C.6.3']);
  });
});

describe('HpackDecoder', () => {
  test('names and values are latin1, byte for byte', () => {
    const value = Uint8Array.from({ length: 256 }, (_, i) => i);
    const block = Buffer.concat([bytes(0x00, 0x03), Buffer.from('x-b'), bytes(0x7f, 0x81, 0x01), value]);
    const [[name, decoded]] = new HpackDecoder().decode(block) as [[string, string]];
    expect(name).toBe('x-b');
    expect(Buffer.from(decoded, 'latin1').equals(value)).toBe(true);
    const huffman = huffmanEncode(value);
    // Huffman-coded, length > 127 so it takes continuation octets.
    const length = huffman.length - 127;
    expect(length).toBeGreaterThan(127);
    const block2 = Buffer.concat([bytes(0x04, 0xff, 0x80 | (length & 0x7f), length >> 7), huffman]);
    expect(Buffer.from(new HpackDecoder().decode(block2)[0]![1], 'latin1').equals(value)).toBe(true);
  });

  test('a plain Uint8Array (not a Buffer) view into a larger buffer', () => {
    const whole = hex('ffff' + example('C.3.1').hex + 'ffff');
    const view = new Uint8Array(whole.buffer, whole.byteOffset + 2, whole.length - 4);
    expect(new HpackDecoder().decode(view)).toEqual(example('C.3.1').headers);
  });

  test('an entry larger than the whole table empties it, without error (§4.4)', () => {
    const decoder = new HpackDecoder(64);
    decoder.decode(bytes(0x40, 0x01, 0x61, 0x01, 0x62)); // a: b, 34 octets
    expect(decoder.tableEntries()).toEqual([['a', 'b']]);
    const big = 'x'.repeat(40);
    expect(decoder.decode(Buffer.concat([bytes(0x40, 0x01, 0x63, 40), Buffer.from(big)]))).toEqual([['c', big]]);
    expect(decoder.tableEntries()).toEqual([]);
    expect(decoder.tableSize()).toBe(0);
  });

  test('size updates evict, and several may open a block', () => {
    const decoder = new HpackDecoder();
    runSeries(decoder, ['C.3.1', 'C.3.2', 'C.3.3']);
    // To 110: the oldest entry (57) goes; then 0 and back to 4096 (§4.2 allows several), then a field.
    decoder.decode(bytes(0x3f, 0x4f));
    expect(decoder.tableEntries()).toEqual([
      ['custom-key', 'custom-value'],
      ['cache-control', 'no-cache'],
    ]);
    expect(decoder.tableSize()).toBe(107);
    expect(decoder.decode(bytes(0x20, 0x3f, 0xe1, 0x1f, 0x82))).toEqual([[':method', 'GET']]);
    expect(decoder.tableEntries()).toEqual([]);
    expect(decoder.tableMaxSize()).toBe(4096);
    expectHpackError(bytes(0xbe), decoder);
  });

  test('a long-lived table stays correct across many inserts and compactions', () => {
    const decoder = new HpackDecoder(200);
    for (let i = 0; i < 1000; i++) {
      const value = String(i).padStart(4, '0'); // 32 + 1 + 4 = 37 octets: 5 entries fit in 200
      expect(decoder.decode(Buffer.concat([bytes(0x40, 0x01, 0x6b, 0x04), Buffer.from(value)]))).toEqual([['k', value]]);
      const live = Math.min(i + 1, 5);
      expect(decoder.tableSize()).toBe(live * 37);
      // Index 62 + live - 1 is the oldest live entry.
      expect(decoder.decode(bytes(0x80 | (62 + live - 1)))).toEqual([['k', String(i - live + 1).padStart(4, '0')]]);
      expect(decoder.tableEntries().length).toBe(live);
    }
  });

  test('literal with an indexed name from the dynamic table', () => {
    const decoder = new HpackDecoder();
    runSeries(decoder, ['C.3.1']);
    // Without indexing, name index 62 (:authority from the dynamic table); 4-bit prefix: 0x0f, 62 - 15.
    expect(decoder.decode(Buffer.concat([bytes(0x0f, 62 - 15, 0x01), Buffer.from('h')]))).toEqual([
      [':authority', 'h'],
    ]);
    // With indexing, the same name: the new entry pushes the old one to 63.
    expect(decoder.decode(Buffer.concat([bytes(0x40 | 62, 0x01), Buffer.from('i')]))).toEqual([[':authority', 'i']]);
    expect(decoder.tableEntries()).toEqual([
      [':authority', 'i'],
      [':authority', 'www.example.com'],
    ]);
  });
});

describe('HpackDecoder rejects', () => {
  test('index 0', () => {
    expectHpackError(bytes(0x80));
  });

  test('an index past the static and dynamic tables', () => {
    expectHpackError(bytes(0x80 | 62)); // empty dynamic table
    expectHpackError(bytes(0x40 | 62, 0x01, 0x61)); // as a literal's name
    expectHpackError(bytes(0x0f, 62 - 15, 0x01, 0x61));
    const decoder = new HpackDecoder();
    decoder.decode(hex(example('C.3.1').hex));
    expect(decoder.decode(bytes(0x80 | 62))).toEqual([[':authority', 'www.example.com']]);
    expectHpackError(bytes(0x80 | 63), decoder);
  });

  test('a table size update above the settings limit', () => {
    new HpackDecoder().decode(bytes(0x3f, 0xe1, 0x1f)); // 4096 is fine
    expectHpackError(bytes(0x3f, 0xe2, 0x1f)); // 4097
    expectHpackError(bytes(0x3f, 0xe2, 0x01), new HpackDecoder(256)); // 257
  });

  test('a table size update after a field', () => {
    expectHpackError(bytes(0x82, 0x20));
    expectHpackError(bytes(0x20, 0x82, 0x3f, 0x00));
  });

  test('truncated integers', () => {
    expectHpackError(bytes(0xff)); // prefix full, no continuation
    expectHpackError(bytes(0xff, 0x80)); // continuation bit set on the last octet
    expectHpackError(bytes(0x3f)); // size update
    expectHpackError(bytes(0x04, 0x7f)); // a string length
  });

  test('truncated strings', () => {
    expectHpackError(bytes(0x04)); // no value at all
    expectHpackError(bytes(0x04, 0x05, 0x61, 0x62)); // 2 of 5 octets
    expectHpackError(bytes(0x40, 0x0a, 0x63)); // literal name cut short
    expectHpackError(bytes(0x00, 0x01, 0x61)); // name, no value
    expectHpackError(bytes(0x04, 0x83, 0x1f)); // Huffman-coded, 1 of 3 octets
    expectHpackError(hex(example('C.4.3').hex).subarray(0, 20));
  });

  test('integer overflow', () => {
    expectHpackError(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0x0f)); // 2^32 + 126
    expectHpackError(bytes(0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00)); // 6 continuation octets
    expectHpackError(bytes(0x04, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f)); // a string length
    // 2^31 - 1 itself decodes (and is then past the tables).
    expect(() => new HpackDecoder().decode(bytes(0xff, 0x80, 0xff, 0xff, 0xff, 0x07))).toThrow(/past the tables/);
  });

  test('bad Huffman padding and EOS in a string literal', () => {
    expect(new HpackDecoder().decode(bytes(0x04, 0x81, 0x1f))).toEqual([[':path', 'a']]);
    expectHpackError(bytes(0x04, 0x81, 0x1e)); // padding 110
    expectHpackError(bytes(0x04, 0x82, 0x1f, 0xff)); // 11 bits of padding
    expectHpackError(bytes(0x04, 0x84, 0xff, 0xff, 0xff, 0xff)); // EOS
    expectHpackError(bytes(0x00, 0x81, 0x1e, 0x00)); // in a name
  });
});

describe('encoder helpers', () => {
  test('match the RFC representations', () => {
    expect(hpackIndexed(2).toString('hex')).toBe('82');
    expect(hpackLiteralIndexedName(4, '/sample/path').toString('hex')).toBe(example('C.2.2').hex);
    expect(hpackLiteral('password', 'secret').toString('hex')).toBe('00' + example('C.2.3').hex.slice(2));
  });

  test('decode back with HpackDecoder, leaving its table empty', () => {
    const long = 'v'.repeat(300);
    const block = Buffer.concat([
      hpackIndexed(8),
      hpackIndexed(61),
      hpackLiteralIndexedName(31, 'application/grpc'),
      hpackLiteralIndexedName(58, long),
      hpackLiteral('grpc-status', '0'),
      hpackLiteral('grpc-message', 'caf\u00e9 \u00ff'),
      hpackLiteral('x-'.padEnd(200, 'n'), ''),
    ]);
    const decoder = new HpackDecoder();
    expect(decoder.decode(block)).toEqual([
      [':status', '200'],
      ['www-authenticate', ''],
      ['content-type', 'application/grpc'],
      ['user-agent', long],
      ['grpc-status', '0'],
      ['grpc-message', 'caf\u00e9 \u00ff'],
      ['x-'.padEnd(200, 'n'), ''],
    ]);
    expect(decoder.tableSize()).toBe(0);
  });

  test('every static entry round-trips', () => {
    const decoder = new HpackDecoder();
    expect(STATIC_TABLE.length).toBe(61);
    for (let i = 1; i <= 61; i++) {
      expect(decoder.decode(hpackIndexed(i))).toEqual([STATIC_TABLE[i - 1]]);
      expect(decoder.decode(hpackLiteralIndexedName(i, 'x'))).toEqual([[STATIC_TABLE[i - 1]![0], 'x']]);
    }
  });

  test('reject indexes outside the static table', () => {
    expect(() => hpackIndexed(0)).toThrow(RangeError);
    expect(() => hpackIndexed(62)).toThrow(RangeError);
    expect(() => hpackLiteralIndexedName(0, 'x')).toThrow(RangeError);
    expect(() => hpackLiteralIndexedName(1.5, 'x')).toThrow(RangeError);
  });

  test('the named static indices are the entries Appendix A gives them', () => {
    expect(STATIC_TABLE[StaticIndex.AUTHORITY - 1]).toEqual([':authority', '']);
    expect(STATIC_TABLE[StaticIndex.METHOD_POST - 1]).toEqual([':method', 'POST']);
    expect(STATIC_TABLE[StaticIndex.PATH - 1]).toEqual([':path', '/']);
    expect(STATIC_TABLE[StaticIndex.SCHEME_HTTP - 1]).toEqual([':scheme', 'http']);
    expect(STATIC_TABLE[StaticIndex.STATUS_200 - 1]).toEqual([':status', '200']);
    expect(STATIC_TABLE[StaticIndex.CONTENT_TYPE - 1]).toEqual(['content-type', '']);
  });
});
