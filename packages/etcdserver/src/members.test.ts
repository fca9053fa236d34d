import { describe, expect, test } from 'vitest';
import { clusterIdOf, formatId, idFromWire, idToWire, memberIdOf, parseInitialCluster, parseUrlList } from './members.js';

describe('members', () => {
  test('--initial-cluster parses as etcd reads it, several URLs per name allowed', () => {
    expect(parseInitialCluster('a=http://127.0.0.1:2380,b=http://127.0.0.1:2381,a=http://10.0.0.1:2380')).toEqual([
      { name: 'a', peerURLs: ['http://127.0.0.1:2380', 'http://10.0.0.1:2380'] },
      { name: 'b', peerURLs: ['http://127.0.0.1:2381'] },
    ]);
    expect(() => parseInitialCluster('a')).toThrow('is not name=url');
    expect(() => parseInitialCluster('a=localhost:2380')).toThrow('must be http or https');
    expect(() => parseInitialCluster('a=http://localhost')).toThrow('has no port');
    expect(() => parseUrlList('', '--listen-client-urls')).toThrow('--listen-client-urls is empty');
  });

  test('ids are derived from peer URLs and the token: the same on every member, 16 hex digits, exact', () => {
    const id = memberIdOf(['http://127.0.0.1:2380'], 'etcd-cluster');
    expect(memberIdOf(['http://127.0.0.1:2380'], 'etcd-cluster')).toBe(id);
    expect(memberIdOf(['http://127.0.0.1:2380'], 'other')).not.toBe(id);
    expect(memberIdOf(['http://b:1', 'http://a:1'], 't')).toBe(memberIdOf(['http://a:1', 'http://b:1'], 't'));
    expect(formatId(id)).toMatch(/^[89a-f][0-9a-f]{15}$/);
    expect(idFromWire(idToWire(id))).toBe(id);
    expect(idFromWire('13835611970401992704')).toBe(13835611970401992704);
    expect(clusterIdOf([], 'etcd-cluster')).toBe(clusterIdOf([], 'etcd-cluster'));
  });
});
