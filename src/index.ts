/** meshcast's library API. See README.md for a ten-line example. */

export type { NodeId, PeerInfo } from './core/types.js';
export { createLogger, type Logger, type LogLevel } from './log/logger.js';
export {
  createNode,
  type MeshMessage,
  MeshNode,
  type NodeEvents,
  type NodeStats,
  type StopOptions,
} from './node/node.js';
export type { NodeOptions, PortSpec } from './node/options.js';
