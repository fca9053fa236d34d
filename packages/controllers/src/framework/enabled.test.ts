import { describe, expect, test } from 'vitest';
import type { ControllerDescriptor } from './controller.js';
import { enabledControllers } from './enabled.js';

const descriptor = (name: string, enabledByDefault = true): ControllerDescriptor => ({
  name,
  enabledByDefault,
  defaultWorkers: 1,
  create: () => ({ run: async () => undefined }),
});
const all = [descriptor('replicaset'), descriptor('deployment'), descriptor('tokencleaner', false)];
const names = (spec: string[]): string[] => enabledControllers(spec, all).map((d) => d.name);

describe('--controllers as kube-controller-manager reads it', () => {
  test('* is every controller on by default', () => expect(names(['*'])).toEqual(['replicaset', 'deployment']));
  test('a name turns on one that is off by default', () => expect(names(['*', 'tokencleaner'])).toEqual(['replicaset', 'deployment', 'tokencleaner']));
  test('-name turns one off, even with *', () => expect(names(['*', '-deployment'])).toEqual(['replicaset']));
  test('names alone run only those', () => expect(names(['deployment'])).toEqual(['deployment']));
  test('an unknown name is refused with upstream message', () => expect(() => names(['*', 'nope'])).toThrow('"nope" is not in the list of known controllers'));
});
