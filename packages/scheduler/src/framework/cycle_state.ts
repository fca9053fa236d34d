/**
 * Data plugins share within one pod's scheduling cycle (kube's CycleState). Keys carry the plugin's
 * name ("PreFilterNodeResourcesFit") so that plugins never read each other's state by accident.
 * Values written at PreFilter/PreScore are read at Filter/Score; preemption clones the state to try
 * removing pods without disturbing the real cycle, so a value that changes when pods are added or
 * removed (PreFilterExtensions) must implement `clone()`.
 */
export interface StateData {
  clone(): StateData;
}

export class CycleState {
  private readonly data = new Map<string, StateData>();

  read<T extends StateData>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, value: StateData): void {
    this.data.set(key, value);
  }

  delete(key: string): void {
    this.data.delete(key);
  }

  clone(): CycleState {
    const copy = new CycleState();
    for (const [key, value] of this.data) copy.data.set(key, value.clone());
    return copy;
  }
}
