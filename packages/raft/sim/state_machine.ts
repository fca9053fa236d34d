import { EntryType, type Entry } from '../src/index.js';

/**
 * The simulated application: it folds every applied command into a running hash, so two nodes at
 * the same applied index agree if and only if they applied the same commands in the same order.
 */
export interface MachineState {
  readonly appliedIndex: number;
  readonly hash: number;
  readonly commands: number;
}

export const EMPTY_MACHINE: MachineState = { appliedIndex: 0, hash: 0x811c9dc5, commands: 0 };

export function applyToMachine(state: MachineState, entry: Entry): MachineState {
  if (entry.type !== EntryType.Normal || entry.data.byteLength === 0) {
    return { ...state, appliedIndex: entry.index };
  }
  let hash = state.hash ^ entry.index;
  for (const byte of entry.data) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return { appliedIndex: entry.index, hash, commands: state.commands + 1 };
}

export function encodeMachine(state: MachineState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(state));
}

export function decodeMachine(data: Uint8Array): MachineState {
  if (data.byteLength === 0) return EMPTY_MACHINE;
  return JSON.parse(new TextDecoder().decode(data)) as MachineState;
}
