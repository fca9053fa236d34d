/**
 * Linearizable reads share ReadIndex rounds, as etcd's linearizableReadLoop does. A read joins the
 * next round, never one already in flight: that round's read point may predate the read's start,
 * and could miss a write acknowledged in between.
 */
export class ReadBatcher {
  private next: { resolve: (index: number) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = false;

  constructor(private readonly readIndex: () => Promise<number>) {}

  /** Resolves with an index every write acknowledged before this call is at or below. */
  read(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.next.push({ resolve, reject });
      if (!this.inFlight) void this.round();
    });
  }

  private async round(): Promise<void> {
    while (this.next.length > 0) {
      const batch = this.next;
      this.next = [];
      this.inFlight = true;
      try {
        const index = await this.readIndex();
        for (const reader of batch) reader.resolve(index);
      } catch (error) {
        for (const reader of batch) reader.reject(error);
      } finally {
        this.inFlight = false;
      }
    }
  }
}
