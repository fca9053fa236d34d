import type { FaultKind } from './schedule.js';
import type { ChaosTarget } from './target.js';

/** Puts a fault of `kind` on `part` in place; returns once it is (the target's contract). */
export async function inject(target: ChaosTarget, kind: FaultKind, part: string): Promise<void> {
  if (kind === 'pause') await target.pause(part);
  else if (kind === 'cut-node') await target.cut(part);
  else await target.kill(part);
}

/** Undoes `inject`'s fault of `kind` on `part`. */
export async function heal(target: ChaosTarget, kind: FaultKind, part: string): Promise<void> {
  if (kind === 'pause') await target.resume(part);
  else if (kind === 'cut-node') await target.heal(part);
  else await target.restart(part);
}
