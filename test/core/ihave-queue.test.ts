import { describe, expect, it } from 'vitest';
import { type IHaveEntry, IHaveQueue } from '../../src/core/broadcast/ihave-queue.js';
import { peer } from './helpers.js';

const entry = (seq: number): IHaveEntry => ({ origin: peer(9).id, seq, hops: 1 });

/** The queue's batches, oldest first: each peer's id with its entries' seqs. */
function batches(queue: IHaveQueue): [string, number[]][] {
  return Array.from({ length: queue.size }, (_, i) => [
    queue.peerAt(i).id,
    queue.entriesAt(i).map((e) => e.seq),
  ]);
}

describe('IHaveQueue', () => {
  it('drops a batch whose last entry is withdrawn: a batch started later goes first', () => {
    const queue = new IHaveQueue();
    queue.add(peer(2), entry(1));
    queue.withdraw(peer(2).id, peer(9).id, 1);
    expect(queue.size).toBe(0);
    queue.add(peer(3), entry(2));
    queue.add(peer(2), entry(2));
    expect(batches(queue)).toEqual([
      [peer(3).id, [2]],
      [peer(2).id, [2]],
    ]);
  });

  it("drops a peer's batch wherever it is, keeping the others in order", () => {
    const queue = new IHaveQueue();
    for (const id of [1, 2, 3]) queue.add(peer(id), entry(id));
    queue.drop(peer(1).id);
    expect(batches(queue)).toEqual([
      [peer(2).id, [2]],
      [peer(3).id, [3]],
    ]);
    queue.drop(peer(3).id);
    expect(batches(queue)).toEqual([[peer(2).id, [2]]]);
  });
});
