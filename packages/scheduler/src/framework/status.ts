/**
 * The outcome of a plugin call, as kube-scheduler's framework.Status:
 * - Success: go on.
 * - Error: something broke (not the pod's fault); the pod goes to the backoff queue.
 * - Unschedulable: this node does not fit now, but preemption (PostFilter) may make it fit.
 * - UnschedulableAndUnresolvable: this node does not fit and preemption cannot help (e.g. a taint,
 *   a node selector): preemption skips the node.
 * - Wait: a Permit plugin holds the pod before binding.
 * - Skip: a PreFilter/PreScore plugin has nothing to do for this pod; its Filter/Score is skipped.
 * `reasons` are the short phrases that FailedScheduling events count ("Insufficient cpu").
 */
export enum Code {
  Success = 'Success',
  Error = 'Error',
  Unschedulable = 'Unschedulable',
  UnschedulableAndUnresolvable = 'UnschedulableAndUnresolvable',
  Wait = 'Wait',
  Skip = 'Skip',
}

export class Status {
  constructor(
    readonly code: Code,
    readonly reasons: readonly string[] = [],
    /** The plugin that returned it; the runtime fills it in. */
    public plugin: string | undefined = undefined,
  ) {}

  static success(): Status {
    return SUCCESS;
  }
  static error(message: string): Status {
    return new Status(Code.Error, [message]);
  }
  static unschedulable(...reasons: string[]): Status {
    return new Status(Code.Unschedulable, reasons);
  }
  static unresolvable(...reasons: string[]): Status {
    return new Status(Code.UnschedulableAndUnresolvable, reasons);
  }
  static skip(): Status {
    return SKIP;
  }
  static wait(): Status {
    return new Status(Code.Wait);
  }

  isSuccess(): boolean {
    return this.code === Code.Success;
  }
  isSkip(): boolean {
    return this.code === Code.Skip;
  }
  /** Unschedulable of either kind: the node (or pod) does not fit, which is not an error. */
  isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable;
  }
  message(): string {
    return this.reasons.join(', ');
  }
  withPlugin(plugin: string): Status {
    if (this === SUCCESS || this === SKIP) return this;
    this.plugin = plugin;
    return this;
  }
}

const SUCCESS = new Status(Code.Success);
const SKIP = new Status(Code.Skip);
