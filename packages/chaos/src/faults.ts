import { dropPeers, dropRandomly, limitRate, removeLinkFaults, type LinkEnd } from './link_faults.js';
import { LOSS_PERCENT, SLOW_RATE_KBIT, type FaultKind, type ScheduledFault } from './schedule.js';
import type { ChaosTarget } from './target.js';

/** What a scheduled fault may carry besides its kind and part (the loss share, the rate). */
export type FaultParameters = Pick<ScheduledFault, 'lossPercent' | 'rateKbit'>;

const LINK_KINDS: ReadonlySet<FaultKind> = new Set(['isolate-store-leader', 'partition-store', 'link-loss', 'link-slow']);

/**
 * Puts a fault of `kind` on `part` in place; returns once it is (the target's contract). Link
 * faults take their share or rate from `parameters` (the scheduled fault); without one, the middle
 * of the schedule's range.
 */
export async function inject(target: ChaosTarget, kind: FaultKind, part: string, parameters: FaultParameters = {}): Promise<void> {
  switch (kind) {
    case 'pause':
      return target.pause(part);
    case 'cut-node':
    case 'lose-node':
      return target.cut(part);
    // The leader (or the member drawn) loses its peers both ways; clients still reach it.
    case 'isolate-store-leader':
    case 'partition-store':
      return dropPeers(linkEnd(target, part), storePeers(target, part));
    case 'link-loss':
      return dropRandomly(linkEnd(target, part), (parameters.lossPercent ?? middle(LOSS_PERCENT)) / 100);
    case 'link-slow':
      return limitRate(linkEnd(target, part), parameters.rateKbit ?? middle(SLOW_RATE_KBIT));
    default:
      return target.kill(part);
  }
}

/** Undoes `inject`'s fault of `kind` on `part`. */
export async function heal(target: ChaosTarget, kind: FaultKind, part: string): Promise<void> {
  if (kind === 'pause') await target.resume(part);
  else if (kind === 'cut-node' || kind === 'lose-node') await target.heal(part);
  else if (LINK_KINDS.has(kind)) await removeLinkFaults(linkEnd(target, part));
  else await target.restart(part);
}

/**
 * Removes link faults from every part that can hold them, whatever put them there: for a run to
 * start clean after one that crashed with a fault in place. Resolves to the parts it could not
 * reach (a part that is down has no namespace to clear; it gets a fresh one when it starts).
 */
export async function clearLinkFaults(target: ChaosTarget): Promise<string[]> {
  const parts = target.parts().linkParts ?? [];
  const results = await Promise.allSettled(parts.map((part) => removeLinkFaults(linkEnd(target, part))));
  return parts.filter((_, index) => results[index]?.status === 'rejected');
}

function linkEnd(target: ChaosTarget, part: string): LinkEnd {
  const enter = target.networkNamespace(part);
  const address = target.address(part);
  if (enter === undefined || address === undefined) throw new Error(`${part} has no network namespace of its own in ${target.description}: no link faults there`);
  return { enter, address };
}

/** The other store members' addresses (the peers a store member's Raft traffic goes to). */
function storePeers(target: ChaosTarget, part: string): string[] {
  const { stores } = target.parts();
  if (!stores.includes(part)) throw new Error(`${part} is not a store member (members: ${stores.join(', ')})`);
  return stores
    .filter((member) => member !== part)
    .map((member) => {
      const address = target.address(member);
      if (address === undefined) throw new Error(`store member ${member} has no address of its own in ${target.description}`);
      return address;
    });
}

function middle(range: readonly [number, number]): number {
  return Math.round((range[0] + range[1]) / 2);
}
