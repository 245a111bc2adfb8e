import { afterEach, describe, expect, it } from 'vitest';
import type { PeerInfo } from '../../src/core/types.js';
import type { LinkManager } from '../../src/transport/link-manager.js';
import { eventually, gossip, ManagerPool, recordMessages } from './helpers.js';

const pool = new ManagerPool();
afterEach(() => pool.closeAll());

const ROUNDS = Number(process.env.MESHCAST_DIAL_ROUNDS ?? 20);
const BEFORE_LINK = 20;
const ON_LINK_UP = 20;
const AFTER_SETTLED = 20;

/** linkUp/linkDown as they happen, to check that the duplicate never shows. */
function recordLinkEvents(manager: LinkManager): string[] {
  const events: string[] = [];
  manager.on('linkUp', (_peer, direction) => events.push(`up ${direction}`));
  manager.on('linkDown', (_peer, reason) => events.push(`down ${reason}`));
  return events;
}

/** Sockets that completed a handshake and are not closed yet. */
function openLinks(manager: LinkManager): number {
  const { linksOpened, linksClosed } = manager.stats();
  return linksOpened - linksClosed;
}

describe('LinkManager: simultaneous dials', () => {
  it(`keeps exactly one link, the same on both ends, and loses nothing (${ROUNDS} rounds)`, async () => {
    let duplicatesResolved = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const a = await pool.start();
      const b = await pool.start();
      const eventsA = recordLinkEvents(a.manager);
      const eventsB = recordLinkEvents(b.manager);
      const atA = recordMessages(a.manager);
      const atB = recordMessages(b.manager);
      let seqA = 0;
      let seqB = 0;
      // Sends made from linkUp go to whichever link won here first, possibly the one being retired.
      a.manager.on('linkUp', (peer: PeerInfo) => {
        for (let i = 0; i < ON_LINK_UP; i++) a.manager.send(peer, gossip(a.info.id, seqA++));
      });
      b.manager.on('linkUp', (peer: PeerInfo) => {
        for (let i = 0; i < ON_LINK_UP; i++) b.manager.send(peer, gossip(b.info.id, seqB++));
      });

      // Same tick: both dial before either has a link.
      for (let i = 0; i < BEFORE_LINK; i++) {
        a.manager.send(b.info, gossip(a.info.id, seqA++));
        b.manager.send(a.info, gossip(b.info.id, seqB++));
      }

      // Both dials complete their handshake on both ends; then one of the two is retired and closes.
      await eventually(`round ${round}: two handshakes, one closed, per side`, () =>
        [a.manager, b.manager].every((m) => m.stats().linksOpened === 2 && m.stats().linksClosed === 1),
      );
      await eventually(
        `round ${round}: early messages delivered`,
        () => atA.length === seqB && atB.length === seqA,
      );

      // The survivor is the link dialed by the smaller id, seen from both ends.
      const smallerIsA = a.info.id < b.info.id;
      expect(a.manager.links()).toEqual([{ peer: b.info, direction: smallerIsA ? 'out' : 'in' }]);
      expect(b.manager.links()).toEqual([{ peer: a.info, direction: smallerIsA ? 'in' : 'out' }]);
      for (const events of [eventsA, eventsB]) {
        expect(events).toHaveLength(1);
        expect(events[0]).toMatch(/^up /);
      }
      duplicatesResolved +=
        a.manager.stats().duplicateLinksResolved + b.manager.stats().duplicateLinksResolved;

      // The surviving link carries traffic both ways.
      for (let i = 0; i < AFTER_SETTLED; i++) {
        a.manager.send(b.info, gossip(a.info.id, seqA++));
        b.manager.send(a.info, gossip(b.info.id, seqB++));
      }
      await eventually(
        `round ${round}: all messages delivered`,
        () => atA.length === seqB && atB.length === seqA,
      );
      const sorted = (xs: { seq: number }[]) => xs.map((m) => m.seq).sort((x, y) => x - y);
      expect(sorted(atA)).toEqual([...Array(seqB).keys()]);
      expect(sorted(atB)).toEqual([...Array(seqA).keys()]);
      expect(openLinks(a.manager)).toBe(1);
      expect(openLinks(b.manager)).toBe(1);
      expect(eventsA).toHaveLength(1);
      expect(eventsB).toHaveLength(1);
      await pool.closeAll();
    }
    expect(duplicatesResolved).toBeGreaterThanOrEqual(ROUNDS);
  });
});
