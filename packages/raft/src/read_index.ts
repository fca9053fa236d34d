import type { NodeId } from './types.js';

interface PendingRead {
  readonly context: string;
  readonly index: number;
  /** Who asked: the leader itself, or the follower that forwarded the request. */
  readonly requester: NodeId;
  readonly acks: Set<NodeId>;
}

/**
 * ReadIndex requests waiting for a quorum of heartbeat acknowledgements (Raft dissertation §6.4).
 * A quorum acknowledging one request's heartbeat also confirms every request queued before it.
 */
export class ReadIndexQueue {
  private readonly queue: PendingRead[] = [];

  add(context: string, index: number, requester: NodeId): void {
    if (this.queue.some((read) => read.context === context)) return;
    this.queue.push({ context, index, requester, acks: new Set() });
  }

  /** Records an acknowledgement; returns the number of acks for that request (0 if unknown). */
  acknowledge(context: string, from: NodeId): number {
    const read = this.queue.find((item) => item.context === context);
    if (read === undefined) return 0;
    read.acks.add(from);
    return read.acks.size;
  }

  /** Removes and returns the request with `context` and every request queued before it. */
  releaseThrough(context: string): PendingRead[] {
    const at = this.queue.findIndex((item) => item.context === context);
    return at < 0 ? [] : this.queue.splice(0, at + 1);
  }

  clear(): void {
    this.queue.length = 0;
  }

  size(): number {
    return this.queue.length;
  }
}
