import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { describe, expect, test } from 'vitest';
import { decide } from './decide.js';

const ref = (uid: string): OwnerReference => ({ apiVersion: 'v1', kind: 'ConfigMap', name: uid, uid });
const none = { count: 0, anyDeletingDependents: false };

describe('what happens to an object with owner references (upstream attemptToDeleteItem)', () => {
  test('a live owner keeps it', () => {
    expect(decide({ solid: [ref('a')], dangling: [], waitingForDependentsDeletion: [] }, [], none)).toEqual({ action: 'keep' });
  });

  test('a live owner keeps it, and references to gone or waiting owners are dropped', () => {
    expect(decide({ solid: [ref('a')], dangling: [ref('b')], waitingForDependentsDeletion: [ref('c')] }, [], none)).toEqual({ action: 'removeReferences', uids: ['b', 'c'] });
  });

  test('all owners gone: deleted in the background', () => {
    expect(decide({ solid: [], dangling: [ref('a')], waitingForDependentsDeletion: [] }, [], none)).toEqual({ action: 'delete', policy: 'Background', unblockFirst: false });
  });

  test('all owners gone: its own orphan or foreground finalizer sets the policy', () => {
    const gone = { solid: [], dangling: [ref('a')], waitingForDependentsDeletion: [] };
    expect(decide(gone, ['orphan'], none)).toMatchObject({ policy: 'Orphan' });
    expect(decide(gone, ['foregroundDeletion'], none)).toMatchObject({ policy: 'Foreground' });
  });

  test('an owner waiting in foreground and dependents of its own: deleted in foreground', () => {
    const waiting = { solid: [], dangling: [], waitingForDependentsDeletion: [ref('a')] };
    expect(decide(waiting, [], { count: 2, anyDeletingDependents: false })).toEqual({ action: 'delete', policy: 'Foreground', unblockFirst: false });
    // A dependent that is itself deleting dependents may be a cycle back to the owner: unblock first.
    expect(decide(waiting, [], { count: 1, anyDeletingDependents: true })).toEqual({ action: 'delete', policy: 'Foreground', unblockFirst: true });
  });

  test('an owner waiting in foreground and no dependents: deleted in the background', () => {
    expect(decide({ solid: [], dangling: [], waitingForDependentsDeletion: [ref('a')] }, [], none)).toEqual({ action: 'delete', policy: 'Background', unblockFirst: false });
  });
});
