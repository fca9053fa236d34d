import { describe, expect, it } from 'vitest';
import { isLoopback, parseEndpoints } from './endpoints.js';

describe('parseEndpoints', () => {
  it('takes host:port and http:// URLs, comma-separated, as etcdctl does', () => {
    expect(parseEndpoints('127.0.0.1:2379, http://localhost:22379/,[::1]:32379')).toEqual(['127.0.0.1:2379', 'localhost:22379', '[::1]:32379']);
  });

  it('refuses anything that is not loopback, TLS, or a bad port', () => {
    expect(() => parseEndpoints('10.0.0.1:2379')).toThrow(/only loopback/);
    expect(() => parseEndpoints('etcd.example.com:2379')).toThrow(/only loopback/);
    expect(() => parseEndpoints('https://127.0.0.1:2379')).toThrow(/TLS/);
    expect(() => parseEndpoints('127.0.0.1')).toThrow(/host:port/);
    expect(() => parseEndpoints('127.0.0.1:70000')).toThrow(/port/);
    expect(() => parseEndpoints(' , ')).toThrow(/empty/);
  });

  it('knows loopback addresses', () => {
    expect(isLoopback('127.1.2.3')).toBe(true);
    expect(isLoopback('127.0.0.256')).toBe(false);
    expect(isLoopback('128.0.0.1')).toBe(false);
    expect(isLoopback('127.0.0.1.example.com')).toBe(false);
  });
});
