import { InvalidArgumentError } from 'commander';

/**
 * Parsers of numeric command-line flags, for every command: each returns the number or throws
 * commander's InvalidArgumentError, which prints the flag, the message and the usage.
 */

/** Number(text), except that an empty or blank flag value is not a number (Number('') is 0). */
function toNumber(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

export function whole(min: number, max: number) {
  return (text: string): number => {
    const n = toNumber(text);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

export function nonNegative(text: string): number {
  const n = toNumber(text);
  if (!(Number.isFinite(n) && n >= 0)) throw new InvalidArgumentError('expected a number >= 0');
  return n;
}

export function positive(text: string): number {
  const n = toNumber(text);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

export function probability(text: string): number {
  const n = toNumber(text);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a probability from 0 to 1');
  return n;
}

/** Above 0 and below 1. */
export function openFraction(text: string): number {
  const n = toNumber(text);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('expected a fraction above 0 and below 1');
  return n;
}

/** From 0 to below 1. */
export function fractionBelowOne(text: string): number {
  const n = toNumber(text);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a fraction from 0 to below 1');
  return n;
}

/** A TCP port to listen on; 0 asks the system for any free one. */
export function listenPort(text: string): number {
  const port = toNumber(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('expected a port number from 0 to 65535 (0: any free port)');
  }
  return port;
}

/** A port every node must agree on, so "any free one" makes no sense. */
export function fixedPort(text: string): number {
  const port = toNumber(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('expected a port number from 1 to 65535');
  }
  return port;
}
