/**
 * Types for the parts of holepunch's Noise and libsodium wrappers this transport uses (the packages
 * ship none). Internal: nothing of them appears in meshcast's public types.
 */

declare module 'noise-curve-ed' {
  interface KeyPair {
    publicKey: Buffer;
    secretKey: Buffer;
  }
  const curve: {
    readonly PKLEN: number;
    generateKeyPair(privateKey?: Buffer): KeyPair;
  };
  export = curve;
}

declare module 'noise-handshake' {
  interface NoiseOptions {
    curve?: unknown;
    psk?: Uint8Array;
  }
  class NoiseState {
    constructor(
      pattern: 'XX' | 'XXpsk0',
      initiator: boolean,
      staticKeyPair: { publicKey: Uint8Array; secretKey: Uint8Array },
      options?: NoiseOptions,
    );
    readonly complete: boolean;
    /** Remote static public key, once received. */
    readonly rs: Uint8Array | null;
    readonly tx: Uint8Array | null;
    readonly rx: Uint8Array | null;
    readonly hash: Uint8Array | null;
    initialise(prologue: Uint8Array, remoteStatic?: Uint8Array): void;
    send(payload?: Uint8Array): Uint8Array;
    recv(message: Uint8Array): Uint8Array;
  }
  export = NoiseState;
}

declare module 'sodium-secretstream' {
  export const ABYTES: number;
  export const HEADERBYTES: number;
  export const KEYBYTES: number;
  export class Push {
    constructor(key: Uint8Array);
    readonly header: Buffer;
    next(message: Uint8Array, cipher?: Uint8Array): Buffer;
  }
  export class Pull {
    constructor(key: Uint8Array);
    readonly final: boolean;
    init(header: Uint8Array): void;
    next(cipher: Uint8Array, message?: Uint8Array): Buffer;
  }
}
