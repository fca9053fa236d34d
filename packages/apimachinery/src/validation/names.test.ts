import { describe, expect, it } from 'vitest';
import {
  isConfigMapKey,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isLabelValue,
  isQualifiedName,
  isValidPortName,
  isValidPortNumber,
  nameIsDnsSubdomain,
} from './names.js';

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

describe('DNS names', () => {
  it('accepts subdomains and explains rejections in upstream words', () => {
    expect(isDns1123Subdomain('web-1.example.com')).toEqual([]);
    expect(isDns1123Subdomain('Web')).toEqual([SUBDOMAIN_MESSAGE]);
    expect(isDns1123Subdomain('a'.repeat(254))).toEqual(['must be no more than 253 characters']);
  });

  it('tells labels apart from subdomains by their dots', () => {
    expect(isDns1123Label('web-1')).toEqual([]);
    expect(isDns1123Label('web.1')).toEqual(['must not contain dots']);
    expect(isDns1123Label('-web')).toEqual([
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
  });

  it('requires a DNS-1035 label to start with a letter', () => {
    expect(isDns1035Label('web')).toEqual([]);
    expect(isDns1035Label('1web')[0]).toMatch(/^a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character/);
  });

  it('allows a trailing dash in generateName only', () => {
    expect(nameIsDnsSubdomain('web-', true)).toEqual([]);
    expect(nameIsDnsSubdomain('web-', false)).toEqual([SUBDOMAIN_MESSAGE]);
  });
});

describe('qualified names and label values', () => {
  it.each(['app', 'app.kubernetes.io/name', 'A_b.c-D', 'example.com/MyName'])('accepts %s', (name) => {
    expect(isQualifiedName(name)).toEqual([]);
  });

  it('explains each part', () => {
    expect(isQualifiedName('/x')).toEqual(['prefix part must be non-empty']);
    expect(isQualifiedName('x/')[0]).toBe('name part must be non-empty');
    expect(isQualifiedName('a/b/c')[0]).toMatch(/^a qualified name must consist of alphanumeric characters/);
    expect(isQualifiedName('Example.com/x')[0]).toMatch(/^prefix part a lowercase RFC 1123 subdomain/);
    expect(isQualifiedName('a'.repeat(64))).toContain('name part must be no more than 63 characters');
  });

  it('allows empty label values and limits them to 63 characters', () => {
    expect(isLabelValue('')).toEqual([]);
    expect(isLabelValue('v1.2_3-x')).toEqual([]);
    expect(isLabelValue('a'.repeat(64))).toEqual(['must be no more than 63 characters']);
    expect(isLabelValue('-x')[0]).toMatch(/^a valid label must be an empty string/);
  });
});

describe('keys and ports', () => {
  it('checks config keys', () => {
    expect(isConfigMapKey('app.properties')).toEqual([]);
    expect(isConfigMapKey('a/b')[0]).toMatch(/^a valid config key must consist of alphanumeric characters, '-', '_' or '.'/);
    expect(isConfigMapKey('..data')).toEqual(["must not start with '..'"]);
  });

  it('checks port numbers and names', () => {
    expect(isValidPortNumber(80)).toEqual([]);
    expect(isValidPortNumber(0)).toEqual(['must be between 1 and 65535, inclusive']);
    expect(isValidPortNumber(65536)).toEqual(['must be between 1 and 65535, inclusive']);
    expect(isValidPortName('http')).toEqual([]);
    expect(isValidPortName('123')).toEqual(['must contain at least one letter (a-z)']);
    expect(isValidPortName('a--b')).toEqual(['must not contain consecutive hyphens']);
  });
});
