export {
  BEACON_BYTES,
  BEACON_MAGIC,
  BEACON_VERSION,
  type Beacon,
  decodeBeacon,
  encodeBeacon,
} from './beacon.js';
export { decodeBody } from './decode-body.js';
export { encodeFrame, encodeFrameWith, frameBodyBytes, GOSSIP_OVERHEAD_BYTES } from './encode-frame.js';
export { DecodeError, type DecodeErrorReason, type DecodeResult } from './errors.js';
export { DEFAULT_MAX_FRAME_BYTES, MAX_APPLICATION_PAYLOAD_BYTES } from './field-limits.js';
export { LENGTH_PREFIX_BYTES, MAX_HOPS, MESSAGE_TYPE_CODES, PROTOCOL_VERSION } from './wire-format.js';
