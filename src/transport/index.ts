export { formatAddress, type HostPort, normalizeHost, parseAddress } from './address.js';
export * from './defaults.js';
export { type Direction, resolveDuplicates } from './duplicate-rule.js';
export { type LinkDownReason, type LinkInfo, LinkManager, type LinkManagerEvents } from './link-manager.js';
export type { LinkManagerOptions } from './options.js';
export type { PortSpec } from './port-binding.js';
export type { TransportStats } from './stats.js';
