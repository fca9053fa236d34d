import { describe, expect, test } from 'vitest';
import { DEFAULT_CONTROLLER_MANAGER_OPTIONS, workersFor, type ControllerContext, type ControllerDescriptor } from './controller.js';

const descriptor: ControllerDescriptor = { name: 'replicaset', enabledByDefault: true, defaultWorkers: 5, create: () => ({ run: async () => undefined }) };
const contextWith = (concurrentSyncs: Record<string, number>): ControllerContext => ({ options: { ...DEFAULT_CONTROLLER_MANAGER_OPTIONS, concurrentSyncs } }) as ControllerContext;

describe('workersFor', () => {
  test('the value the controller manager set for the controller', () => {
    expect(workersFor(contextWith({ replicaset: 12, deployment: 3 }), descriptor)).toBe(12);
  });

  test("the descriptor's default when none was set (a controller built outside the manager)", () => {
    expect(workersFor(contextWith({ deployment: 3 }), descriptor)).toBe(5);
  });
});
