import type { NodeId } from '@k8ts/raft';

/** Sends one batch of proposals to the leader (PeerTransport.forwardProposals fits). */
export type SendProposals = (leader: NodeId, proposals: readonly Uint8Array[]) => void;

/** A batch is sent once it holds this many bytes, even within one turn of the event loop. */
const MAX_BATCH_BYTES = 1024 * 1024;

/**
 * A follower's way to hand its clients' proposals to the leader, as etcd's followers do with
 * MsgProp: on the Raft peer stream, not as a call per request. Proposals made in the same turn of
 * the event loop go out as one message, so concurrent clients cost one message, not one each.
 * Nothing is answered per proposal: the proposer learns the outcome from its own apply, from a
 * refusal the leader sends back, or from its timeout.
 */
export class ProposalForwarder {
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private batchLeader: NodeId = 0;
  private scheduled = false;

  constructor(private readonly send: SendProposals) {}

  forward(leader: NodeId, proposal: Uint8Array): void {
    if (leader !== this.batchLeader || this.batchBytes + proposal.byteLength > MAX_BATCH_BYTES) this.flush();
    this.batchLeader = leader;
    this.batch.push(proposal);
    this.batchBytes += proposal.byteLength;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const [leader, batch] = [this.batchLeader, this.batch];
    this.batch = [];
    this.batchBytes = 0;
    this.send(leader, batch);
  }
}
