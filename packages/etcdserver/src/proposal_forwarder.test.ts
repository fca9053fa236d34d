import { describe, expect, test } from 'vitest';
import { ProposalForwarder } from './proposal_forwarder.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const texts = (batch: readonly Uint8Array[]): string[] => batch.map((data) => new TextDecoder().decode(data));

describe('ProposalForwarder', () => {
  test('proposals of one turn of the event loop go to the leader as one batch, in order', async () => {
    const sent: { leader: number; batch: string[] }[] = [];
    const forwarder = new ProposalForwarder((leader, batch) => sent.push({ leader, batch: texts(batch) }));
    forwarder.forward(2, bytes('a'));
    forwarder.forward(2, bytes('b'));
    expect(sent).toEqual([]);
    await turn();
    forwarder.forward(2, bytes('c'));
    await turn();
    expect(sent).toEqual([
      { leader: 2, batch: ['a', 'b'] },
      { leader: 2, batch: ['c'] },
    ]);
  });

  test('a new leader starts a new batch; a full batch goes at once', async () => {
    const sent: { leader: number; batch: string[] }[] = [];
    const forwarder = new ProposalForwarder((leader, batch) => sent.push({ leader, batch: texts(batch).map((t) => t.slice(0, 3)) }));
    forwarder.forward(2, bytes('a'));
    forwarder.forward(3, bytes('b'));
    const big = 'x'.repeat(600 * 1024);
    forwarder.forward(3, bytes(big));
    forwarder.forward(3, bytes(big));
    expect(sent).toEqual([
      { leader: 2, batch: ['a'] },
      { leader: 3, batch: ['b', 'xxx'] },
    ]);
    await turn();
    expect(sent.at(-1)).toEqual({ leader: 3, batch: ['xxx'] });
    expect(sent).toHaveLength(3);
  });
});
