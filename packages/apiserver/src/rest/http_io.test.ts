import { KUBERNETES_PROTOBUF_CONTENT_TYPE } from '@k8ts/apimachinery';
import { describe, expect, it } from 'vitest';
import { refusal } from '../testing/refusal.js';
import { EtcdError } from '../etcd_client.js';
import { decodeBody, decodeObjectBody, decodePatchBody, statusOf } from './http_io.js';

describe('request bodies', () => {
  it('refuses a media type create and update do not decode with 415 and the accepted list', () => {
    for (const type of ['text/plain', 'application/json-patch+json', 'application/x-www-form-urlencoded']) {
      expect(refusal(() => decodeObjectBody(Buffer.from('{}'), type))).toEqual({
        code: 415,
        reason: 'UnsupportedMediaType',
        message: 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
      });
    }
  });

  it("refuses nesting past Go's 10,000 levels (strings do not count), in a body and in a patch", () => {
    const deep = (levels: number): string => `{"a":${'['.repeat(levels)}${']'.repeat(levels)}}`;
    expect(decodeBody(Buffer.from(deep(9_999)), 'json')).toBeDefined();
    expect(decodeBody(Buffer.from(`{"s":"${'['.repeat(20_000)}"}`), 'json')).toEqual({ s: '['.repeat(20_000) });
    expect(refusal(() => decodeBody(Buffer.from(deep(10_000)), 'json'))).toMatchObject({
      code: 400,
      message: expect.stringMatching(/^the object provided is unrecognized \(decoding .*\): couldn't get version\/kind; json parse error: invalid character '\[' exceeded max depth$/),
    });
    expect(refusal(() => decodePatchBody(Buffer.from(deep(10_000)), 'strategic'))).toMatchObject({ code: 400, message: "invalid character '[' exceeded max depth" });
  });

  it('refuses truncated JSON with 400 in transformDecodeError shape', () => {
    const body = Buffer.from('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"');
    expect(refusal(() => decodeObjectBody(body, 'application/json'))).toEqual({
      code: 400,
      reason: 'BadRequest',
      message: `the object provided is unrecognized (decoding {"apiVersion":"v1","kind":"Con ...): couldn't get version/kind; json parse error: unexpected end of JSON input`,
    });
  });

  it('refuses truncated YAML with 400 naming the YAML error', () => {
    const body = Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "x');
    const refused = refusal(() => decodeObjectBody(body, 'application/yaml'));
    expect(refused.code).toBe(400);
    expect(refused.message).toMatch(/^the object provided is unrecognized \(decoding 61706956657273696f6e3a2076310a6b696e643a20436f6e6669674d6170 ...\): error converting YAML to JSON: yaml: /);
  });

  it('refuses truncated and foreign protobuf with 400', () => {
    const refused = refusal(() => decodeObjectBody(Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x40, 0x0a]), KUBERNETES_PROTOBUF_CONTENT_TYPE));
    expect(refused).toEqual({ code: 400, reason: 'BadRequest', message: 'the object provided is unrecognized (decoding 6b3873000a400a): unexpected EOF' });
    expect(refusal(() => decodeObjectBody(Buffer.from('{}'), KUBERNETES_PROTOBUF_CONTENT_TYPE)).message).toBe(
      'the object provided is unrecognized (decoding {}): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]',
    );
  });

  it('refuses a patch that does not parse as the patch handler does', () => {
    const cut = Buffer.from('{"data":');
    expect(refusal(() => decodePatchBody(cut, 'merge'))).toEqual({ code: 400, reason: 'BadRequest', message: 'Invalid JSON Patch' });
    expect(refusal(() => decodePatchBody(cut, 'strategic'))).toEqual({ code: 400, reason: 'BadRequest', message: 'unexpected end of JSON input' });
    expect(refusal(() => decodePatchBody(cut, 'json')).message).toBe('unexpected end of JSON input');
    expect(refusal(() => decodePatchBody(Buffer.from('a: "b'), 'apply')).message).toMatch(/^error decoding YAML: error converting YAML to JSON: yaml: /);
    expect(decodePatchBody(Buffer.from('{"data":{"k":"v"}}'), 'merge')).toEqual({ data: { k: 'v' } });
  });

  it('reads an empty body as no value', () => {
    expect(decodeBody(Buffer.alloc(0), 'json')).toBeUndefined();
  });
});

describe('store errors as Status', () => {
  it('answers a value the store refuses as too large with 413, not a retryable 504', () => {
    expect(statusOf(new EtcdError(3, 'etcdserver: request is too large'))).toMatchObject({
      code: 413,
      reason: 'RequestEntityTooLarge',
      message: 'Request entity too large: limit is 3145728',
    });
    expect(statusOf(new EtcdError(8, 'Received message larger than max (2097152 vs. 2097152)'))).toMatchObject({ code: 413 });
  });

  it('keeps 504 Timeout for a store that is slow or changing leader', () => {
    for (const message of ['etcdserver: request timed out', 'etcdserver: leader changed']) {
      expect(statusOf(new EtcdError(14, message))).toMatchObject({ code: 504, reason: 'Timeout' });
    }
    expect(statusOf(new Error('14 UNAVAILABLE: No connection established'))).toMatchObject({ code: 504, reason: 'Timeout' });
    // Every member down: the HTTP/2 connection to the store cannot be made.
    expect(statusOf(new Error('The pending stream has been canceled (caused by: connect ECONNREFUSED 127.0.0.1:2379)'))).toMatchObject({ code: 504, reason: 'Timeout' });
    expect(statusOf(new Error('read ECONNRESET'))).toMatchObject({ code: 504, reason: 'Timeout' });
  });

  it('answers a compacted revision with 410 Expired and any other store error with 500', () => {
    expect(statusOf(new EtcdError(11, 'etcdserver: mvcc: required revision has been compacted'))).toMatchObject({ code: 410, reason: 'Expired' });
    expect(statusOf(new EtcdError(8, 'etcdserver: mvcc: database space exceeded'))).toMatchObject({
      code: 500,
      reason: 'InternalError',
      message: 'Internal error occurred: etcdserver: mvcc: database space exceeded',
    });
  });
});
