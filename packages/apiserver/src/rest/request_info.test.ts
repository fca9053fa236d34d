import { ApiError } from '@k8ts/apimachinery';
import { describe, expect, it } from 'vitest';
import { MalformedRequestTarget, parseRequestPath } from './request_info.js';

describe('parseRequestPath', () => {
  it('refuses a malformed percent-escape as Go net/http does, before any routing', () => {
    expect(() => parseRequestPath('/api/v1/namespaces/default/pods/%zz')).toThrow(MalformedRequestTarget);
    expect(() => parseRequestPath('/api/v1/namespaces/default/pods/a%2')).toThrow(MalformedRequestTarget);
    expect(() => parseRequestPath('/healthz%')).toThrow(MalformedRequestTarget);
  });

  it('reads an encoded slash as a separator, so a name never holds a slash', () => {
    const target = parseRequestPath('/api/v1/namespaces/default/pods%2Fweb');
    expect(target).toMatchObject({ kind: 'resource', namespace: 'default', name: 'web' });
    expect(() => parseRequestPath('/api/v1/namespaces/default/pods/a%2Fb')).toThrow(ApiError);
    try {
      parseRequestPath('/api/v1/namespaces/default/pods/a%2Fb');
    } catch (error) {
      expect((error as ApiError).status).toMatchObject({ code: 404, reason: 'NotFound' });
    }
  });

  it('decodes other escapes as bytes', () => {
    expect(parseRequestPath('/api/v1/namespaces/default/configmaps/a%2Eb')).toMatchObject({ name: 'a.b' });
  });
});
