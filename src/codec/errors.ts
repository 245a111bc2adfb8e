/**
 * Why a frame body or beacon was rejected. A closed set so that callers can count rejections per
 * reason (metrics, tests) without parsing messages.
 */
export type DecodeErrorReason =
  /** The input ends before a field it announces (a length, a list count, a fixed-size field). */
  | 'truncated'
  /** A frame's length prefix exceeds the reader's limit; raised before the body is buffered. */
  | 'oversize'
  /** The message type byte is not one this protocol version defines. */
  | 'unknown-type'
  /** The version byte is not the one this build speaks. */
  | 'bad-version'
  /** A field holds a value outside its domain (boolean 2, seq >= 2^53, invalid UTF-8, ...). */
  | 'bad-field'
  /** Bytes remain after the last field: a framing bug or a forged length. */
  | 'trailing-bytes'
  /** A datagram that is not a meshcast beacon at all. */
  | 'bad-magic';

/** Bad bytes from the network. Never a programming error: those throw RangeError/TypeError. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';

  constructor(
    readonly reason: DecodeErrorReason,
    detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

/**
 * The outcome of every decoding entry point. Bad input is data, not an exception, so a hostile peer
 * can never unwind the transport's stack.
 */
export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: DecodeError };

/** Runs a decoder that throws DecodeError on bad input and turns that into a result. */
export function catchDecodeError<T>(decode: () => T): DecodeResult<T> {
  try {
    return { ok: true, value: decode() };
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, error };
    // Anything else is a bug in the decoder, not bad input: let it surface.
    throw error;
  }
}
