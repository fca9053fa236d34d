/**
 * DefaultBinder: binds the pod to the chosen node through the API's pods/binding subresource, which
 * refuses a pod that already has a node (so two schedulers that both think they lead cannot bind a pod
 * twice). The write itself is given by whoever builds the registry (the scheduler's API client).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { CycleState } from '../../framework/cycle_state.js';
import type { BindPlugin, PluginFactory } from '../../framework/interfaces.js';
import { Status } from '../../framework/status.js';

export const NAME = 'DefaultBinder';

/** Writes the binding; rejects when the API refuses it. */
export type BindFunction = (pod: Pod, nodeName: string) => Promise<void>;

export class DefaultBinder implements BindPlugin {
  readonly name = NAME;

  constructor(private readonly bindPod: BindFunction) {}

  async bind(_state: CycleState, pod: Pod, nodeName: string): Promise<Status> {
    try {
      await this.bindPod(pod, nodeName);
      return Status.success();
    } catch (error) {
      return Status.error(`binding rejected: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

export function defaultBinderFactory(bindPod: BindFunction): PluginFactory {
  return () => new DefaultBinder(bindPod);
}
