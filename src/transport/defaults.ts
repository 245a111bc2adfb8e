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

/**
 * A timer that fires this much later than asked shows that the event loop was held meanwhile (a
 * saturated process, a long GC pause, a debugger), and that peers could not be heard: their
 * frames sat unread. Ordinary timer jitter and GC pauses are a few milliseconds. The transport's
 * deadlines (LinkManager.pauseSinceLastTick) and the node's timers (NodeTimers) allow for it.
 */
export const HELD_LOOP_THRESHOLD_MS = 100;

/** Floor for the housekeeping tick, so tiny test timeouts cannot turn it into a busy loop. */
export const MIN_TICK_MS = 5;

/** close() resolves after this long even if a socket has not reported 'close' yet: it must never hang. */
export const CLOSE_DEADLINE_MS = 1000;

/** listenPort announced in Hello by a node that does not accept links (listen() never called). */
export const NOT_LISTENING_PORT = 0;

/**
 * A peer's send queue (bytes handed to its socket and not yet taken by the kernel) may hold this
 * much; a peer whose queue reaches it has stopped reading and is disconnected, so one stuck peer
 * cannot grow our heap. Eight maximum-size messages: a healthy peer on a LAN never comes close.
 */
export const DEFAULT_MAX_SEND_QUEUE_BYTES = 8 * 1024 * 1024;

/**
 * Above this many queued bytes on a link, broadcast() reports backpressure and drained() waits:
 * one maximum-size message, so a caller who waits for drained() never pushes a link near the
 * disconnect limit above.
 */
export const DEFAULT_SEND_HIGH_WATER_BYTES = 1024 * 1024;

/**
 * Inbound connections still in their handshake, from everyone. Each costs a socket, a few hundred
 * bytes and one Noise handshake of CPU; the cap bounds what strangers can make us hold.
 */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 256;

/**
 * Inbound connections still in their handshake from one host. A host with many honest nodes (tests
 * run dozens on 127.0.0.1) opens a few each at start-up; hundreds from one host is an attack, and
 * this keeps it from filling the global cap.
 */
export const DEFAULT_MAX_PENDING_HANDSHAKES_PER_HOST = 32;

/**
 * Inbound connections (any phase) from one host. A node keeps about ten links (HyParView's active
 * view of 5 plus shuffles and dials in flight), so 64 leaves room for a few nodes behind one address.
 */
export const DEFAULT_MAX_LINKS_PER_HOST = 64;

/**
 * Membership requests (JOIN, FORWARDJOIN, NEIGHBOR, SHUFFLE, OVERLAYTAG) one peer may send per
 * second, and in a burst. A node joining a 20-node mesh sees a few dozen forwarded joins from one neighbour at most;
 * a flood beyond this is dropped (and counted) before it reaches the protocol core.
 */
export const DEFAULT_MEMBERSHIP_REQUESTS_PER_SECOND = 50;
export const DEFAULT_MEMBERSHIP_REQUEST_BURST = 100;

/**
 * Idle timeouts a peer may leave what we sent it untaken: 30 s by default, time for a slow reader
 * to catch up, and a bound on one that reads nothing. A retired link lingers while the peer still
 * talks for at most this long (see LinkManager.tick), and an open link whose send queue the kernel
 * took nothing of for this long is dropped: its peer may ping for ever, but a sender waiting for
 * drained() must not wait for ever. nginx's send_timeout (60 s) is the same rule.
 */
export const SEND_WAIT_MAX_IDLE_TIMEOUTS = 6;
