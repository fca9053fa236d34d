import { describe, expect, it } from 'vitest';
import { defaultPullPolicy, goDuration } from './image_puller.js';

describe('image puller rules', () => {
  it('image pull policy defaults as the API\'s: Always for latest or no tag, else IfNotPresent', () => {
    expect(defaultPullPolicy('busybox')).toBe('Always');
    expect(defaultPullPolicy('busybox:latest')).toBe('Always');
    expect(defaultPullPolicy('localhost:5000/busybox')).toBe('Always');
    expect(defaultPullPolicy('k8ts/http-echo:1.0')).toBe('IfNotPresent');
    expect(defaultPullPolicy('busybox@sha256:abc')).toBe('IfNotPresent');
  });

  it('durations as Go prints them', () => {
    expect([goDuration(12), goDuration(1250)]).toEqual(['12ms', '1.25s']);
  });
});
