/** meshcast's library API. See README.md for a ten-line example. */

export type { NodeId, PeerInfo } from './core/types.js';
export {
  defaultIdentityPath,
  generateIdentity,
  generateNetworkSecret,
  type Identity,
  IdentityInUseError,
  KeyFileError,
  loadNetworkKey,
  loadOrCreateIdentity,
  NETWORK_KEY_FILE_ENV,
  type NetworkKey,
  networkKeyFromSecret,
  writeNetworkKeyFile,
} from './identity/index.js';
export { createLogger, type Logger, type LogLevel } from './log/logger.js';
export {
  type BroadcastReceipt,
  createNode,
  type MeshMessage,
  MeshNode,
  type NodeEvents,
  type NodeStats,
  type StopOptions,
} from './node/node.js';
export type { NodeOptions, PortSpec, TransportTuning } from './node/options.js';
export type { RejectReason, TransportStats } from './transport/index.js';
