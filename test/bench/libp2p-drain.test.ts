import '../../bench/contenders/promise-polyfill.js';
import { defaultLogger } from '@libp2p/logger';
import { AbstractStream } from '@libp2p/utils';
import { describe, expect, it } from 'vitest';
import { nextDrain } from '../../bench/contenders/libp2p.js';

/** A stream whose transport takes a write only while `room` is true (like a Yamux send window). */
class GatedStream extends AbstractStream {
  room = true;
  constructor() {
    super({ id: '1', direction: 'outbound', log: defaultLogger().forComponent('test') } as never);
  }
  sendData(data: { byteLength: number }) {
    return this.room
      ? { sentBytes: data.byteLength, canSendMore: true }
      : { sentBytes: 0, canSendMore: false };
  }
  sendReset() {}
  async sendCloseWrite() {}
  async sendCloseRead() {}
  sendPause() {}
  sendResume() {}
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the GossipSub contender waiting for a full stream', () => {
  it('waits for the drain every time the stream is full, not only the first', async () => {
    // Before, it waited on onDrain(), which hands back the promise of the first drain for good.
    const stream = new GatedStream();
    for (let episode = 0; episode < 3; episode++) {
      stream.room = false;
      stream.send(new Uint8Array(1024));
      expect(stream.writableNeedsDrain).toBe(true);
      let drained = false;
      void nextDrain(stream).then(() => {
        drained = true;
      });
      await turn();
      expect(drained).toBe(false);
      stream.room = true;
      stream.safeDispatchEvent('drain');
      await turn();
      expect(drained).toBe(true);
    }
  });
});
