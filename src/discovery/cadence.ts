import type { Random } from '../core/random.js';
import type { Millis } from '../core/types.js';

/**
 * When a node announces itself. Pure functions of an injected Random, so the schedule can be tested
 * without sockets or clocks.
 */

/** Beacon interval once a node has enough peers: slow, because every beacon wakes every node on the LAN. */
export const DEFAULT_ANNOUNCE_INTERVAL_MS: Millis = 5000;

/** Beacon interval while a node wants peers: fast, so that a newcomer or an isolated node is found quickly. */
export const DEFAULT_EAGER_INTERVAL_MS: Millis = 1000;

/**
 * Spread of every delay, as a fraction of its nominal value (±25%). Nodes started together (a test
 * harness, a rack powering up) would otherwise beacon in lockstep forever.
 */
export const ANNOUNCE_JITTER = 0.25;

/**
 * Nominal times of the start-up burst, in ms after start(). One datagram can be lost (a receiver
 * still joining the group, a full socket buffer), so a starting node announces itself three times
 * within half a second instead of waiting a whole interval to be seen.
 */
export const STARTUP_BURST_OFFSETS_MS: readonly Millis[] = [0, 150, 400];

/**
 * Least time between a beacon and the one a node sends at once when it comes to want peers. A
 * neighbour that connects and drops over and over flips that wish each time, and a beacon per flip
 * went past what receivers take from one node (BEACONS_PER_NODE_PER_SECOND), which then dropped the
 * very beacons saying it wants peers. The first gap of the start-up burst: at most 7 a second.
 */
export const WANTS_PEERS_BEACON_GAP_MS: Millis = 150;

/** `nominal` scaled by a uniform factor in [1 - spread, 1 + spread). */
export function jittered(random: Random, nominal: Millis, spread: number = ANNOUNCE_JITTER): Millis {
  return nominal * (1 + spread * (2 * random.next() - 1));
}

/**
 * Gaps between consecutive burst beacons (the first one is sent at once, so there is one gap fewer
 * than offsets). Each gap is jittered on its own; gaps are never negative.
 */
export function startupBurstGaps(
  random: Random,
  offsets: readonly Millis[] = STARTUP_BURST_OFFSETS_MS,
): Millis[] {
  const gaps: Millis[] = [];
  for (let i = 1; i < offsets.length; i++) {
    const gap = (offsets[i] as Millis) - (offsets[i - 1] as Millis);
    gaps.push(Math.max(0, jittered(random, gap)));
  }
  return gaps;
}

export interface AnnounceIntervals {
  readonly announceIntervalMs: Millis;
  readonly eagerIntervalMs: Millis;
}

/** Delay until the next periodic beacon. */
export function nextAnnounceDelay(random: Random, wantsPeers: boolean, intervals: AnnounceIntervals): Millis {
  return jittered(random, wantsPeers ? intervals.eagerIntervalMs : intervals.announceIntervalMs);
}
