import curve from 'noise-curve-ed';
import Noise from 'noise-handshake';
import { ABYTES, HEADERBYTES, Pull, Push } from 'sodium-secretstream';
import { LENGTH_PREFIX_BYTES } from '../codec/index.js';
import type { NodeId } from '../core/types.js';
import type { Identity } from '../identity/identity.js';
import { idOfPublicKey } from '../identity/identity.js';
import { RecordReader } from './record-reader.js';
import type { Rejection } from './rejection.js';
import { SEAL_OVERHEAD_BYTES, sealedRecordBytes } from './sealed-record.js';

/**
 * One link's encryption: a Noise handshake, then libsodium secretstream records.
 *
 * Handshake: Noise XX (mutual authentication; each side learns the other's static key, which is its
 * node id) over Ed25519 keys, as @hyperswarm/secret-stream does it. In a private network the pattern
 * is XXpsk0 with a key derived from the network key: a peer without that key cannot produce even the
 * first message, and the key is bound to both sides' fresh ephemeral keys, so a recorded handshake
 * replays into nothing. After it, each direction is a crypto_secretstream_xchacha20poly1305 stream
 * keyed by the handshake (authenticated encryption, ordered: a dropped, reordered or replayed record
 * fails to verify). The header that starts a stream is sent in the clear; it is a nonce, not a secret.
 *
 * On the wire every unit is a record: a u32 big-endian length, then the bytes. Handshake and header
 * records are tiny, so until the handshake is done the limit is MAX_HANDSHAKE_RECORD_BYTES; after
 * it, a record is one sealed frame body.
 *
 * Sans-IO: the caller feeds received bytes and writes the records this returns. Received records
 * are decrypted in place, so a plaintext body is a view into the chunk it arrived in: no buffer is
 * allocated per received frame.
 */

/** Noise prologue: both sides hash it in, so another protocol (or version) on the port cannot complete. */
export const NOISE_PROLOGUE = Buffer.from('meshcast/1', 'ascii');

/**
 * Largest handshake record: XX messages are 32, 96 and 64 bytes (48, 112, 64 with a PSK) with the
 * empty payloads sent here; the rest is headroom. Anything longer is not a meshcast handshake.
 */
export const MAX_HANDSHAKE_RECORD_BYTES = 256;

if (ABYTES !== SEAL_OVERHEAD_BYTES) {
  throw new Error(
    `sodium-secretstream seals with ${ABYTES} bytes, sealed-record.ts says ${SEAL_OVERHEAD_BYTES}`,
  );
}

/** An X25519 public key, as the Noise handshake sends its ephemeral keys. */
const EPHEMERAL_KEY_BYTES = 32;
/** Length of the first Noise message: the initiator's ephemeral key, plus a 16-byte tag with a PSK. */
const OPEN_MESSAGE1_BYTES = EPHEMERAL_KEY_BYTES;
const KEYED_MESSAGE1_BYTES = OPEN_MESSAGE1_BYTES + 16;

export type ChannelEvent =
  /** Write these bytes to the socket as they are. */
  | { readonly kind: 'send'; readonly bytes: Buffer }
  /** The peer proved its key; seal() works from now on. */
  | { readonly kind: 'secured'; readonly remoteId: NodeId }
  /** A frame body the peer sealed. */
  | { readonly kind: 'plaintext'; readonly body: Buffer }
  /** The channel is broken for good; nothing more comes out of it. */
  | ({ readonly kind: 'failure' } & Rejection);

/**
 * Takes each event as the channel produces it; returning false stops the processing of the chunk
 * (the caller dropped the link: the rest of the chunk is left unread, as is everything after a
 * failure).
 */
export type ChannelEventSink = (event: ChannelEvent) => boolean;

type State = 'message1' | 'message2' | 'message3' | 'header' | 'open' | 'failed';

export class SecureChannel {
  private readonly noise: Noise;
  private readonly reader = new RecordReader(MAX_HANDSHAKE_RECORD_BYTES);
  private state: State;
  private push: Push | undefined;
  private pull: Pull | undefined;
  private remote: NodeId | undefined;
  /**
   * The initiator's ephemeral public key, which opens the first handshake message: both ends of
   * one connection know it, and nobody else's handshake has it (it is fresh for each). Set once the
   * first message is sent or received.
   */
  initiatorEphemeral: Buffer | undefined;

  constructor(
    private readonly initiator: boolean,
    identity: Identity,
    /** The network's handshake key, or undefined for the open network. */
    private readonly psk: Uint8Array | undefined,
    /** Largest frame body accepted once the handshake is done. */
    private readonly maxBodyBytes: number,
  ) {
    this.noise = new Noise(psk === undefined ? 'XX' : 'XXpsk0', initiator, identity, { curve, psk });
    this.noise.initialise(NOISE_PROLOGUE);
    this.state = initiator ? 'message2' : 'message1';
  }

  /** The peer's id, once secured. */
  get remoteId(): NodeId | undefined {
    return this.remote;
  }

  /** True once seal() may be called. */
  get canSeal(): boolean {
    return this.push !== undefined;
  }

  /** Bytes received but not yet processed. */
  get bufferedBytes(): number {
    return this.reader.bufferedBytes;
  }

  /** The initiator's first record; the responder has nothing to say first. */
  start(): Buffer[] {
    if (!this.initiator) return [];
    const message1 = Buffer.from(this.noise.send());
    this.initiatorEphemeral = message1.subarray(0, EPHEMERAL_KEY_BYTES);
    return [record(message1)];
  }

  /** Length of the record seal() makes of a body of `bodyLength` bytes. */
  static sealedLength(bodyLength: number): number {
    return sealedRecordBytes(bodyLength);
  }

  /**
   * Seals one frame body into a record. Only after 'secured'. With `target` (exactly
   * sealedLength(body.length) bytes, not overlapping `body`), the record is written there instead
   * of into a new buffer, and `target` is returned.
   */
  seal(body: Uint8Array, target?: Buffer): Buffer {
    if (this.push === undefined) throw new Error('seal() before the handshake completed');
    const out = target ?? Buffer.allocUnsafe(SecureChannel.sealedLength(body.length));
    if (out.length !== SecureChannel.sealedLength(body.length)) {
      throw new RangeError(`seal() target of ${out.length} bytes for a body of ${body.length}`);
    }
    out.writeUInt32BE(body.length + ABYTES, 0);
    // A plain view: cheaper to make than Buffer#subarray's, and libsodium needs nothing more.
    this.push.next(
      body,
      new Uint8Array(out.buffer, out.byteOffset + LENGTH_PREFIX_BYTES, out.length - LENGTH_PREFIX_BYTES),
    );
    return out;
  }

  /**
   * The events `chunk` completes, in order. Takes ownership of `chunk`: its sealed records are
   * decrypted in place. The hot path uses receiveEach(), which builds no array.
   */
  receive(chunk: Buffer): ChannelEvent[] {
    const events: ChannelEvent[] = [];
    this.receiveEach(chunk, (event) => {
      events.push(event);
      return true;
    });
    return events;
  }

  /** Hands each event `chunk` completes to `sink`, in order; takes ownership of `chunk` (see receive()). */
  receiveEach(chunk: Buffer, sink: ChannelEventSink): void {
    if (this.state === 'failed') return;
    this.reader.push(chunk);
    for (let next = this.reader.next(); next !== undefined; next = this.reader.next()) {
      if (!next.ok) {
        const limit = this.reader.limit;
        sink(this.fail('oversize', `record of ${next.length} bytes, limit ${limit} in state ${this.state}`));
        return;
      }
      if (!this.step(next.record, sink)) return;
    }
  }

  /** Processes one record; false once processing must stop (a failure, or the sink said so). */
  private step(bytes: Buffer, sink: ChannelEventSink): boolean {
    switch (this.state) {
      case 'message1': {
        const rejection = this.checkMessage1(bytes);
        if (rejection !== undefined) return this.failTo(sink, rejection.reason, rejection.detail);
        this.initiatorEphemeral = Buffer.from(bytes.subarray(0, EPHEMERAL_KEY_BYTES));
        const message2 = this.noiseSend();
        if (message2 === undefined) {
          return this.failTo(sink, 'handshake-failed', 'first handshake message holds no usable key');
        }
        this.state = 'message3';
        return sink({ kind: 'send', bytes: record(message2) });
      }
      case 'message2': {
        const message3 = this.noiseReceive(bytes) ? this.noiseSend() : undefined;
        if (message3 === undefined) {
          return this.failTo(sink, 'handshake-failed', 'second handshake message does not verify');
        }
        if (!sink({ kind: 'send', bytes: record(message3) })) return false;
        return this.secured(sink);
      }
      case 'message3':
        if (!this.noiseReceive(bytes)) {
          return this.failTo(sink, 'handshake-failed', 'third handshake message does not verify');
        }
        return this.secured(sink);
      case 'header':
        if (bytes.length !== HEADERBYTES) {
          return this.failTo(
            sink,
            'malformed',
            `stream header of ${bytes.length} bytes, expected ${HEADERBYTES}`,
          );
        }
        this.pull?.init(bytes);
        this.state = 'open';
        this.reader.limit = this.maxBodyBytes + ABYTES;
        return true;
      case 'open': {
        if (bytes.length <= ABYTES) {
          return this.failTo(sink, 'malformed', `sealed record of ${bytes.length} bytes holds no frame`);
        }
        let body: Buffer;
        try {
          // In place: the message sits right after the tag byte, and libsodium checks the MAC over
          // the ciphertext before it overwrites anything with plaintext.
          body = (this.pull as Pull).next(bytes, bytes.subarray(1, bytes.length - ABYTES + 1));
        } catch {
          return this.failTo(sink, 'forged-record', 'a record does not verify');
        }
        return sink({ kind: 'plaintext', body });
      }
      case 'failed':
        return false;
    }
  }

  /**
   * The responder's first look at a stranger: a first message of the other network's size means the
   * peer is in another network (or none); one that does not verify under our PSK means another key.
   */
  private checkMessage1(bytes: Buffer): Rejection | undefined {
    const keyed = this.psk !== undefined;
    const expected = keyed ? KEYED_MESSAGE1_BYTES : OPEN_MESSAGE1_BYTES;
    const otherNetwork = keyed ? OPEN_MESSAGE1_BYTES : KEYED_MESSAGE1_BYTES;
    if (bytes.length === otherNetwork) {
      const detail = keyed ? 'peer is in the open network' : 'peer is in a private network';
      return { reason: 'wrong-network-key', detail };
    }
    if (bytes.length !== expected) {
      return { reason: 'malformed', detail: `first handshake message of ${bytes.length} bytes` };
    }
    if (!this.noiseReceive(bytes)) {
      return keyed
        ? { reason: 'wrong-network-key', detail: 'first handshake message is not under our network key' }
        : { reason: 'malformed', detail: 'first handshake message is not a key' };
    }
    return undefined;
  }

  /** Feeds one handshake message to Noise; false if it does not verify. Payloads must be empty. */
  private noiseReceive(bytes: Buffer): boolean {
    try {
      return this.noise.recv(bytes).length === 0;
    } catch {
      return false;
    }
  }

  /**
   * Builds our next handshake message; undefined if the peer's keys make that impossible. Noise's
   * recv() takes the first message's ephemeral key without any curve arithmetic, so a key that is no
   * usable point (94% of random 32-byte strings) surfaces only here, where libsodium throws on it.
   */
  private noiseSend(): Buffer | undefined {
    try {
      return Buffer.from(this.noise.send());
    } catch {
      return undefined;
    }
  }

  private secured(sink: ChannelEventSink): boolean {
    const { tx, rx, rs } = this.noise;
    if (tx === null || rx === null || rs === null) {
      return this.failTo(sink, 'handshake-failed', 'handshake ended without keys');
    }
    const push = new Push(tx.subarray(0, 32));
    this.push = push;
    this.pull = new Pull(rx.subarray(0, 32));
    this.remote = idOfPublicKey(rs);
    this.state = 'header';
    this.reader.limit = HEADERBYTES;
    if (!sink({ kind: 'send', bytes: record(push.header) })) return false;
    return sink({ kind: 'secured', remoteId: this.remote });
  }

  /** Fails the channel and tells the sink; processing always stops after a failure. */
  private failTo(sink: ChannelEventSink, reason: Rejection['reason'], detail: string): false {
    sink(this.fail(reason, detail));
    return false;
  }

  private fail(reason: Rejection['reason'], detail: string): ChannelEvent {
    this.state = 'failed';
    return { kind: 'failure', reason, detail };
  }
}

function record(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, LENGTH_PREFIX_BYTES);
  return out;
}
