/**
 * Every default of the TCP transport, beside the reason for its value. LinkManagerOptions overrides
 * each of them; tests shrink the timeouts to milliseconds.
 */

/** Accept links on every interface: peers find us through multicast beacons on any LAN we are on. */
export const DEFAULT_LISTEN_HOST = '0.0.0.0';

/**
 * The IANA dynamic/private port range (RFC 6335, section 6): no registered service lives there, so
 * a random start rarely collides and a collision only costs one retry on the next port.
 */
export const DEFAULT_PORT_RANGE = { from: 49152, to: 65535 } as const;

/** Time from opening a socket (connect included) until the peer's Hello must have arrived. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

/** Send a Ping when nothing was sent on a link for this long, so the peer can tell us from a dead link. */
export const DEFAULT_KEEP_ALIVE_INTERVAL_MS = 1000;

/**
 * Nothing received for this long means the link is dead. Five keep-alive intervals: a busy peer that
 * misses a few Ping slots is not cut off, yet a silently dead link is noticed within a few seconds.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 5000;

/**
 * One housekeeping timer per manager ticks this many times per shortest timeout, so a deadline is
 * acted on at most a quarter of that timeout late.
 */
export const TICKS_PER_SHORTEST_TIMEOUT = 4;

/** Floor for the housekeeping tick, so tiny test timeouts cannot turn it into a busy loop. */
export const MIN_TICK_MS = 5;

/** close() resolves after this long even if a socket has not reported 'close' yet: it must never hang. */
export const CLOSE_DEADLINE_MS = 1000;

/** listenPort announced in Hello by a node that does not accept links (listen() never called). */
export const NOT_LISTENING_PORT = 0;
