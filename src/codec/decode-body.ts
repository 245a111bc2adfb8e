import type { IHave, WireMessage } from '../core/messages.js';
import type { PeerInfo } from '../core/types.js';
import { ByteReader } from './byte-reader.js';
import { DecodeError, type DecodeResult } from './errors.js';
import { IHAVE_ENTRY_BYTES, MIN_PEER_INFO_BYTES } from './field-limits.js';
import { BODY_HEADER_BYTES, MESSAGE_TYPE_CODES, PRIORITY_CODES, PROTOCOL_VERSION } from './wire-format.js';

/**
 * Decodes one frame body (the bytes after the length prefix; the transport's SecureChannel opens
 * one from each sealed record). Never throws on bad input: every malformed body comes back as a DecodeError result.
 *
 * Zero copy: a gossip payload is a view into `body`, not a copy. The caller must not reuse or
 * mutate `body`'s memory while the message is alive (Node hands out a fresh Buffer per socket read,
 * so the transport is fine as long as it does not pool read buffers).
 */
export function decodeBody(body: Uint8Array): DecodeResult<WireMessage> {
  // As catchDecodeError(), written out: its closure cost an allocation per frame received.
  try {
    return { ok: true, value: decodeOrThrow(new ByteReader(body)) };
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, error };
    throw error; // a bug in the decoder, not bad input
  }
}

function decodeOrThrow(reader: ByteReader): WireMessage {
  if (reader.remaining < BODY_HEADER_BYTES) {
    throw new DecodeError('truncated', `body of ${reader.remaining} bytes has no version and type`);
  }
  const version = reader.u8('version');
  if (version !== PROTOCOL_VERSION) {
    throw new DecodeError('bad-version', `version ${version}, this build speaks ${PROTOCOL_VERSION}`);
  }
  const code = reader.u8('type');
  const message = decodeFields(reader, code);
  reader.end(message.type);
  return message;
}

function decodeFields(reader: ByteReader, code: number): WireMessage {
  switch (code) {
    case MESSAGE_TYPE_CODES.hello:
      return { type: 'hello', id: reader.nodeId('id'), listenPort: reader.u16('listenPort') };
    case MESSAGE_TYPE_CODES.ping:
      return { type: 'ping' };
    case MESSAGE_TYPE_CODES.join:
      return { type: 'join' };
    case MESSAGE_TYPE_CODES.forwardJoin:
      return { type: 'forwardJoin', peer: readPeerInfo(reader, 'peer'), ttl: reader.u8('ttl') };
    case MESSAGE_TYPE_CODES.neighbor:
      return { type: 'neighbor', priority: readPriority(reader) };
    case MESSAGE_TYPE_CODES.neighborReply:
      return { type: 'neighborReply', accepted: reader.bool('accepted') };
    case MESSAGE_TYPE_CODES.disconnect:
      return { type: 'disconnect', alive: reader.bool('alive') };
    case MESSAGE_TYPE_CODES.shuffle:
      return {
        type: 'shuffle',
        origin: readPeerInfo(reader, 'origin'),
        ttl: reader.u8('ttl'),
        peers: readPeerList(reader),
      };
    case MESSAGE_TYPE_CODES.shuffleReply:
      return { type: 'shuffleReply', peers: readPeerList(reader) };
    case MESSAGE_TYPE_CODES.overlayTag:
      return { type: 'overlayTag', tag: reader.nodeId('tag'), probe: reader.bool('probe') };
    case MESSAGE_TYPE_CODES.gossip: {
      const origin = reader.nodeId('origin');
      const seq = reader.u53('seq');
      const hops = reader.u8('hops');
      const signature = reader.signature('signature');
      const payload = reader.payload('payload');
      // Unsigned gossip has no signature field at all, so it round-trips to what was encoded.
      return signature === undefined
        ? { type: 'gossip', origin, seq, hops, payload }
        : { type: 'gossip', origin, seq, hops, signature, payload };
    }
    case MESSAGE_TYPE_CODES.ihave:
      return { type: 'ihave', entries: readIHaveEntries(reader) };
    case MESSAGE_TYPE_CODES.graft:
      return {
        type: 'graft',
        origin: reader.nodeId('origin'),
        seq: reader.u53('seq'),
        request: reader.bool('request'),
      };
    case MESSAGE_TYPE_CODES.prune:
      return { type: 'prune', origin: reader.nodeId('origin') };
    case MESSAGE_TYPE_CODES.relink:
      return { type: 'relink' };
    default:
      throw new DecodeError('unknown-type', `type 0x${code.toString(16).padStart(2, '0')}`);
  }
}

function readPeerInfo(reader: ByteReader, field: string): PeerInfo {
  return { id: reader.nodeId(`${field} id`), address: reader.address(`${field} address`) };
}

function readPeerList(reader: ByteReader): PeerInfo[] {
  const count = reader.count('peers', MIN_PEER_INFO_BYTES);
  const peers: PeerInfo[] = [];
  for (let i = 0; i < count; i++) peers.push(readPeerInfo(reader, 'peer'));
  return peers;
}

function readIHaveEntries(reader: ByteReader): IHave['entries'][number][] {
  const count = reader.count('ihave entries', IHAVE_ENTRY_BYTES);
  const entries: IHave['entries'][number][] = [];
  for (let i = 0; i < count; i++) {
    entries.push({ origin: reader.nodeId('origin'), seq: reader.u53('seq'), hops: reader.u8('hops') });
  }
  return entries;
}

function readPriority(reader: ByteReader): 'high' | 'low' {
  const value = reader.u8('priority');
  if (value === PRIORITY_CODES.low) return 'low';
  if (value === PRIORITY_CODES.high) return 'high';
  throw new DecodeError('bad-field', `priority must be 0 (low) or 1 (high), got ${value}`);
}
