export { formatAddress, type HostPort, normalizeHost, parseAddress } from './address.js';
export * from './defaults.js';
export { type Direction, resolveDuplicates } from './duplicate-rule.js';
export { type LinkDownReason, type LinkInfo, LinkManager, type LinkManagerEvents } from './link-manager.js';
export type { LinkManagerOptions } from './options.js';
export type { PortSpec } from './port-binding.js';
export { REJECT_REASONS, type RejectionCounts, type RejectReason } from './rejection.js';
export { MAX_HANDSHAKE_RECORD_BYTES, NOISE_PROLOGUE, SEAL_OVERHEAD_BYTES } from './secure-channel.js';
export type { TransportStats } from './stats.js';
